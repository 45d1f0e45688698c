// Driving one run session from the command line: shared by run, resume and sweep --task.
#pragma once

#include <string>

#include "core/exp/run_session.h"

namespace h158::cli {

// Steps the session to its end (Ctrl-C, SIGINT or SIGTERM, stops it as stopped with everything
// written), drawing progress on a terminal; prints the summary as one JSON line on stdout.
// 0 when the run completed, 1 otherwise.
int driveSession(RunSession& session, const char* what, const std::string& out);

// This program's own path (/proc/self/exe), for the sweep's child runs and Slurm's batch
// script. Throws FileError when it cannot be read.
std::string selfExecutable();

}  // namespace h158::cli
