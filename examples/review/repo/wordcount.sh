#!/bin/sh
# wordcount.sh FILE: print the number of words in FILE.
set -eu
tr -s ' \t\n' '\n' < "$1" | grep -c .
