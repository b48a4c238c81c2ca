// Parallel loops whose iterations may throw. Exceptions must not leave an OpenMP construct (the
// runtime would call std::terminate and kill the host), so each iteration catches its own and the
// first one is rethrown after the parallel region.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>

namespace atomfp {

// Below this many units of work (listed neighbour pairs plus centres, for the descriptors) a call
// runs on the calling thread alone: waking a thread team costs tens of microseconds, and with
// libgomp's default spin-waiting the woken threads then burn a shared machine's cores after short
// calls (docs/hosts.md, OMP_WAIT_POLICY). 2048 pairs are a few hundred microseconds of the
// cheapest descriptor's work.
constexpr int64_t minimum_parallel_work = 2048;

inline bool worth_threads(int64_t work) { return work >= minimum_parallel_work; }

// Calls body(item, scratch) for items [0, n), `chunk` items at a time, in parallel when `threaded`,
// with one scratch per thread from make_scratch() (its failure is recorded too; that thread then
// skips its items). Once an iteration has failed, the remaining items are skipped.
template <typename MakeScratch, typename Body>
void parallel_items(int64_t n, int chunk, bool threaded, MakeScratch&& make_scratch, Body&& body) {
    static_cast<void>(threaded);  // used only by the OpenMP if clause
    static_cast<void>(chunk);  // used only by the OpenMP schedule
    std::exception_ptr failure;
    bool failed = false;
    auto record = [&]() {
#pragma omp critical(atomfp_item_failure)
        if (!failure) failure = std::current_exception();
#pragma omp atomic write
        failed = true;
    };
#pragma omp parallel if (threaded)
    {
        std::optional<decltype(make_scratch())> scratch;
        try {
            scratch.emplace(make_scratch());
        } catch (...) {
            record();
        }
#pragma omp for schedule(dynamic, chunk)
        for (int64_t item = 0; item < n; ++item) {
            bool stop;
#pragma omp atomic read
            stop = failed;
            if (!scratch || stop) continue;
            try {
                body(item, *scratch);
            } catch (...) {
                record();
            }
        }
    }
    if (failure) std::rethrow_exception(failure);
}

// body(item) for items [0, n), as parallel_items without a scratch.
template <typename Body>
void parallel_for(int64_t n, int chunk, bool threaded, Body&& body) {
    parallel_items(n, chunk, threaded, [] { return 0; }, [&](int64_t item, int&) { body(item); });
}

}  // namespace atomfp
