// Sweeps on a Slurm cluster: the batch script of one job array whose task I runs run I of a sweep
// (`hybrid158-cli sweep --out DIR --task I`), and reading squeue's view of the tasks back. Plain
// text in and out: the CLI runs sbatch and squeue, the tests check these without a cluster.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace h158 {

// Slurm's --array list of task indices: ascending, runs of consecutive indices as ranges
// ("1-3,5,7-8"). Duplicates are dropped; empty for no tasks.
std::string slurmArraySpec(std::vector<int64_t> tasks);

struct SlurmJob {
    std::string name;       // --job-name
    std::string cli;        // absolute path of hybrid158-cli as the nodes see it
    std::string sweepDir;   // absolute path of the sweep folder on the shared filesystem
    std::string workDir;    // the tasks' working directory (relative data paths resolve there)
    std::vector<int64_t> tasks;  // the runs to do (1-based sweep indices)
    std::string partition;  // empty: the cluster's default
    std::string time;       // --time limit per task (Slurm's syntax, e.g. 30:00); empty: default
    int cpusPerTask = 1;    // --cpus-per-task, and the run's --threads
    int maxRunning = 0;     // the array's %limit on tasks at once (0: no limit)
};

// The sbatch script: #SBATCH lines (job name, array with its %limit, output and error to
// sweepDir/slurm/%A_%a.out, partition and time when given, cpus per task), then
// `cd workDir` and `exec cli sweep --out sweepDir --task $SLURM_ARRAY_TASK_ID --threads N`.
// Paths are shell-quoted. Throws ConfigError for no tasks, a relative path, or a partition or
// time with characters Slurm does not take in them.
std::string slurmBatchScript(const SlurmJob& job);

// Slurm's state of each array task of `jobIds`, from the output of
// `squeue -h -r -o "%i %t"` ("123_4 R"; a pending array not yet split, "123_[5-7,9%2] PD",
// is expanded). Lines of other jobs are ignored; a malformed line throws ConfigError naming it.
std::map<int64_t, std::string> parseSqueueTasks(const std::string& squeueOutput,
                                                const std::set<std::string>& jobIds);

// One task's status for `sweep status`: the run directory's own (completed, stopped, diverged,
// failed, unreadable) once it has a summary; else the scheduler's while squeue lists the task
// (running for R, CG and CF, pending for PD and every other state it lists); else
// "interrupted" when the run started (a metrics.csv) and ended without a summary, "pending"
// when it was never submitted or its task has not started, and "lost" when a submitted task
// left the queue without starting its run (its DIR/slurm/<job>_<task>.out says why).
std::string sweepTaskStatus(const std::string& runStatus, bool runStarted,
                            const std::string& squeueState, bool submitted);

}  // namespace h158
