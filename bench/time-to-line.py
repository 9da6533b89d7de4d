#!/usr/bin/python3
"""Seconds from starting a command to the first line of its standard output that starts with PREFIX; then the
command is stopped. `train` prints `data: ...` once its data is ready to train on, so this times how soon
training starts from a given file (parsing a CSV against opening a .sgd file).

    python3 bench/time-to-line.py "data: " dotnet src/SoftmaxGpu.Cli/bin/Release/net10.0/SoftmaxGpu.Cli.dll \
        train --data /tmp/convert-2g.csv --model /tmp/t.model
"""
import subprocess
import sys
import time

prefix, command = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
for line in process.stdout:
    if line.startswith(prefix):
        print(f"{time.perf_counter() - start:.2f} s to: {line.strip()}")
        break
else:
    print(f"no line starting with {prefix!r}; exit {process.wait()}")
process.kill()
process.wait()
