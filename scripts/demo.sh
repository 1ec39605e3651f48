#!/usr/bin/env bash
echo "The local demo is not built yet (see the end-to-end issue)." >&2
exit 1
