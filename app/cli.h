// Sub-commands of hybrid158-cli. Each takes its own argv (argv[0] is the command name) and
// returns the exit code: 0 success, 1 failed run, 2 usage or configuration error.
#pragma once

namespace h158::cli {

int runCommand(int argc, char** argv);      // run [--preset|--config] [--set k=v]... [--steps] ...
int forkCommand(int argc, char** argv);     // fork DIR --step N: a new run from a checkpoint
int resumeCommand(int argc, char** argv);   // resume DIR: continues a run from its checkpoint
int presetsCommand(int argc, char** argv);  // presets
int lessonsCommand(int argc, char** argv);  // lessons [--check FILE]
int configCommand(int argc, char** argv);   // config --preset NAME
int kmeansCommand(int argc, char** argv);   // kmeans --input F.csv --k K --out L.csv ... (JSON line)
int benchCommand(int argc, char** argv);    // bench gpt --preset P --mode fp32|ternary --steps N (JSON line)
int exportCommand(int argc, char** argv);   // export --run DIR --out FILE.h158 (JSON line)
int generateCommand(int argc, char** argv); // generate --model FILE.h158 --prompt TEXT --tokens N ...
int memoryCommand(int argc, char** argv);   // memory [--preset NAME | --config FILE] (Markdown table)
int sweepCommand(int argc, char** argv);
int sensitivityCommand(int argc, char** argv);  // sensitivity --run DIR [--batches N] (JSON line)    // sweep [--preset ...] --grid k=v1,v2 --seeds N --out DIR

}  // namespace h158::cli
