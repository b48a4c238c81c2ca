// The training communicator over MPI (built with ATOMFP_ENABLE_MPI=ON). MPI stays in the
// command-line tool: the library itself is never linked against it.
#pragma once

#include "models/trainer.hpp"

namespace atomfp::cli {

// Initialises MPI on construction (if it is not yet) and finalises it on destruction.
class MpiSession {
public:
    MpiSession(int* argc, char*** argv);
    ~MpiSession();
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;
};

class MpiCommunicator final : public TrainingCommunicator {
public:
    MpiCommunicator();
    int rank() const override { return rank_; }
    int size() const override { return size_; }
    void sum(std::vector<double>& values) const override;
    std::vector<double> gather(const std::vector<double>& local) const override;

private:
    int rank_ = 0, size_ = 1;
};

}  // namespace atomfp::cli
