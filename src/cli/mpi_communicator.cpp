#include "cli/mpi_communicator.hpp"

#include "core/error.hpp"

#include <mpi.h>

namespace atomfp::cli {

MpiSession::MpiSession(int* argc, char*** argv) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) MPI_Init(argc, argv);
}

MpiSession::~MpiSession() {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (!finalised) MPI_Finalize();
}

MpiCommunicator::MpiCommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

void MpiCommunicator::sum(std::vector<double>& values) const {
    if (size_ > 1) MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

std::vector<double> MpiCommunicator::gather(const std::vector<double>& local) const {
    if (size_ == 1) return local;
    const int count = static_cast<int>(local.size());
    std::vector<int> counts(size_), displacements(size_, 0);
    MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
    for (int r = 1; r < size_; ++r) displacements[r] = displacements[r - 1] + counts[r - 1];
    std::vector<double> all(static_cast<std::size_t>(displacements.back()) + counts.back());
    MPI_Allgatherv(local.data(), count, MPI_DOUBLE, all.data(), counts.data(), displacements.data(), MPI_DOUBLE, MPI_COMM_WORLD);
    return all;
}

}  // namespace atomfp::cli
