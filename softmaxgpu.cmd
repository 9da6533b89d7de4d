@echo off
rem The repository's softmaxgpu on Windows, optimized: `dotnet run` builds the CLI in Release when a source
rem changed (a check of a few seconds on every call), then runs it.
dotnet run -c Release --project "%~dp0src\SoftmaxGpu.Cli" -- %*
