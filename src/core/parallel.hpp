// Parallel loops whose iterations may throw. Exceptions must not leave an OpenMP construct (the
// runtime would call std::terminate and kill the host), so each iteration catches its own and the
// first one is rethrown after the parallel region.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>

namespace atomfp {

// Calls body(item, scratch) for items [0, n) in parallel, `chunk` items at a time, with one
// scratch per thread from make_scratch() (its failure is recorded too; that thread then skips its
// items). Once an iteration has failed, the remaining items are skipped.
template <typename MakeScratch, typename Body>
void parallel_items(int64_t n, int chunk, MakeScratch&& make_scratch, Body&& body) {
    static_cast<void>(chunk);  // used only by the OpenMP schedule
    std::exception_ptr failure;
    bool failed = false;
    auto record = [&]() {
#pragma omp critical(atomfp_item_failure)
        if (!failure) failure = std::current_exception();
#pragma omp atomic write
        failed = true;
    };
#pragma omp parallel
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

// body(item) for items [0, n) in parallel, as parallel_items without a scratch.
template <typename Body>
void parallel_for(int64_t n, int chunk, Body&& body) {
    parallel_items(n, chunk, [] { return 0; }, [&](int64_t item, int&) { body(item); });
}

}  // namespace atomfp
