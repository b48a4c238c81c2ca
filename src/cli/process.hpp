// Running another program from a command: the KIM API's collection manager, a user's labeller.
#pragma once

#include <string>
#include <vector>

namespace atomfp::cli {

struct ProcessSettings {
    std::string directory;    // where it runs; "" = here
    std::string log;          // its stdout and stderr; "" = inherited
    bool append_log = false;  // append to `log` instead of truncating it
    double timeout = 0;       // seconds; 0 = none. The process group is killed when it runs out.
};

struct ProcessOutcome {
    bool started = false;  // false when it could not be forked; a program not found exits with 127
    bool timed_out = false;
    int signal = 0;       // the signal that ended it, 0 when it exited
    int exit_status = -1;
};

// Runs argv[0] (searched on PATH) with the arguments, stdin from /dev/null, in its own process
// group so that a timeout stops the whole tree it started.
ProcessOutcome run_process(const std::vector<std::string>& argv, const ProcessSettings& settings);

}  // namespace atomfp::cli
