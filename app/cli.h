// Sub-commands of hybrid158-cli. Each takes its own argv (argv[0] is the command name) and
// returns the exit code: 0 success, 1 failed run, 2 usage or configuration error.
#pragma once

namespace h158::cli {

int runCommand(int argc, char** argv);      // run [--preset|--config] [--set k=v]... [--steps] ...
int presetsCommand(int argc, char** argv);  // presets
int configCommand(int argc, char** argv);   // config --preset NAME
int kmeansCommand(int argc, char** argv);   // kmeans --input F.csv --k K --out L.csv ... (JSON line)
int benchCommand(int argc, char** argv);    // bench gpt --preset P --mode fp32|ternary --steps N (JSON line)

}  // namespace h158::cli
