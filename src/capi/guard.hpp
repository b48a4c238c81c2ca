// Exception -> status translation for the extern "C" layer: nothing thrown inside the library
// crosses the API, and every failure leaves a thread-local message.
#pragma once

#include "atomfp.h"
#include "core/error.hpp"

#include <new>
#include <string>

namespace atomfp::capi {

void set_last_error(const std::string& message);

template <typename Body>
atomfp_status_t guard(Body&& body) noexcept {
    try {
        body();
        return ATOMFP_OK;
    } catch (const Error& e) {
        set_last_error(e.what());
        return static_cast<atomfp_status_t>(e.status());
    } catch (const std::bad_alloc&) {
        set_last_error("out of memory");
        return ATOMFP_ERROR_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        set_last_error(std::string("internal error: ") + e.what());
        return ATOMFP_ERROR_INTERNAL;
    } catch (...) {
        set_last_error("internal error: unknown exception");
        return ATOMFP_ERROR_INTERNAL;
    }
}

template <typename T>
void require_pointer(const T* pointer, const char* name) {
    if (!pointer) fail(Status::invalid_argument, name, " is NULL");
}

// Copies `text` into a caller buffer of `length` bytes (NUL included) or reports the size needed.
void copy_string(const std::string& text, char* buffer, int64_t length, int64_t* required_length);

}  // namespace atomfp::capi
