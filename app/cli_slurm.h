// The Slurm backend of `hybrid158-cli sweep` (cli_slurm.cpp): submit the runs that still need
// doing as one job array whose task I runs `sweep --out DIR --task I`, and `sweep status DIR`.
#pragma once

#include <string>

#include "core/exp/sweep.h"

namespace h158::cli {

struct SlurmSubmit {
    std::string partition;  // empty: the cluster's default
    std::string time;       // per-task time limit in Slurm's syntax; empty: the default
    int threads = 1;        // cpus per task, and each run's --threads when run.threads is 0
    int maxRunning = 0;     // --jobs: tasks at once (the array's %limit); 0: no limit
};

// Writes DIR/slurm/sweep-N.sbatch for the runs of `s` (in folder `out`) that have no result and
// are not already queued by an earlier submission, submits it with sbatch, and records the job
// id in DIR/slurm/jobs.txt. "nothing to submit" when every run has a result or is queued.
// Returns the exit code (0 submitted or nothing to do; 1 sbatch failed; 2 bad input).
int submitSweepToSlurm(const std::string& out, const Sweep& s, const SlurmSubmit& opts);

// `sweep status DIR`: one line per run (its folder, status, steps) and a JSON line of counts
// per status on stdout; rewrites DIR/summary.csv. Slurm's view (squeue) of the recorded jobs
// adds pending and running; without Slurm the run folders alone say what is known.
int sweepStatus(const std::string& out);

}  // namespace h158::cli
