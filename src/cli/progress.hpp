// A one-line progress bar on stderr, drawn only when stderr is a terminal.
#pragma once

#include <cstdint>
#include <string>

namespace atomfp::cli {

class ProgressBar {
public:
    // `unit` names what is counted ("frames", "structures").
    explicit ProgressBar(std::string unit);
    // Redraws the bar with a stage label; a finished stage ends its line. `unit`, when given,
    // replaces the bar's own for this stage (the folds of a cross-validation, not structures).
    void show(const std::string& stage, int64_t done, int64_t total, const std::string& unit = "") const;
    bool enabled() const { return enabled_; }

private:
    std::string unit_;
    bool enabled_;
};

}  // namespace atomfp::cli
