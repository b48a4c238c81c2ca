// The parallel loop helper: every item exactly once, exceptions carried out of the parallel region,
// and small work kept on the calling thread.
#include "core/parallel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace atomfp;

namespace {

int team_size() {
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

TEST(Parallel, EveryItemRunsOnceWithAndWithoutThreads) {
    for (bool threaded : {false, true}) {
        std::vector<int> visits(1000, 0);
        parallel_for(1000, 7, threaded, [&](int64_t i) { ++visits[i]; });
        for (int v : visits) EXPECT_EQ(v, 1);
    }
}

TEST(Parallel, AnExceptionLeavesTheLoopAndLaterItemsAreSkipped) {
    for (bool threaded : {false, true}) {
        int64_t ran_after = 0;
        auto body = [&](int64_t i) {
            if (i == 3) throw std::runtime_error("item 3");
#pragma omp atomic
            ++ran_after;
        };
        EXPECT_THROW(parallel_for(10000, 1, threaded, body), std::runtime_error);
        // Items already handed out may finish, but not all 9999 others.
        EXPECT_LT(ran_after, 9999);
    }
}

TEST(Parallel, AFailingScratchIsReported) {
    EXPECT_THROW(parallel_items(
                     10, 1, true, []() -> int { throw std::runtime_error("no scratch"); }, [](int64_t, int&) {}),
                 std::runtime_error);
}

TEST(Parallel, SmallWorkStaysOnTheCallingThread) {
    EXPECT_FALSE(worth_threads(minimum_parallel_work - 1));
    EXPECT_TRUE(worth_threads(minimum_parallel_work));
#ifdef _OPENMP
    const int saved = omp_get_max_threads();
    omp_set_num_threads(2);
    int largest_team = 0;
    parallel_for(64, 1, false, [&](int64_t) {
#pragma omp critical
        largest_team = std::max(largest_team, team_size());
    });
    EXPECT_EQ(largest_team, 1);
    largest_team = 0;
    parallel_for(64, 1, true, [&](int64_t) {
#pragma omp critical
        largest_team = std::max(largest_team, team_size());
    });
    EXPECT_EQ(largest_team, 2);
    omp_set_num_threads(saved);
#endif
}

}  // namespace
