#include "cli/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

namespace atomfp::cli {

ProcessOutcome run_process(const std::vector<std::string>& argv, const ProcessSettings& settings) {
    ProcessOutcome outcome;
    if (argv.empty()) return outcome;
    std::vector<char*> c_argv;
    for (const std::string& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
    c_argv.push_back(nullptr);
    std::fflush(nullptr);  // the child must not write our buffered output again
    const pid_t child = fork();
    if (child < 0) return outcome;
    if (child == 0) {
        setpgid(0, 0);
        if (!settings.directory.empty() && chdir(settings.directory.c_str()) != 0) _exit(126);
        const int input = open("/dev/null", O_RDONLY);
        if (input >= 0) {
            dup2(input, 0);
            close(input);
        }
        if (!settings.log.empty()) {
            const int log = open(settings.log.c_str(), O_WRONLY | O_CREAT | (settings.append_log ? O_APPEND : O_TRUNC), 0644);
            if (log < 0) _exit(126);
            dup2(log, 1);
            dup2(log, 2);
            close(log);
        }
        execvp(c_argv[0], c_argv.data());
        _exit(127);
    }
    setpgid(child, child);  // also here: the child may not have run yet when a timeout kills the group
    const auto start = std::chrono::steady_clock::now();
    int status = 0;
    for (;;) {
        const pid_t done = waitpid(child, &status, settings.timeout > 0 ? WNOHANG : 0);
        if (done == child) break;
        if (done < 0 && errno == EINTR) continue;  // a signal for this process, not the child's end
        if (done < 0) return outcome;
        if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > settings.timeout) {
            kill(-child, SIGKILL);
            while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
            }
            outcome.started = true;
            outcome.timed_out = true;
            return outcome;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    outcome.started = true;
    if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
    if (WIFEXITED(status)) outcome.exit_status = WEXITSTATUS(status);
    return outcome;
}

}  // namespace atomfp::cli
