// Errors inside the library are exceptions carrying a status code; the C API turns them into
// status codes and thread-local messages, so nothing below capi/ needs to know about the C layer.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace atomfp {

// Numerically identical to the ATOMFP_* codes of atomfp.h (checked by static_assert in capi/).
enum class Status : int {
    ok = 0,
    invalid_argument = 1,
    json_error = 2,
    buffer_too_small = 3,
    neighbours = 4,
    io = 5,
    format = 6,
    linalg = 7,
    out_of_memory = 8,
    species = 9,
    not_available = 10,
    internal = 255,
};

// Messages quote input (keys, values, file names); hostile input can be megabytes long.
constexpr std::size_t max_error_message = 2048;

inline std::string bounded_message(const std::string& message) {
    if (message.size() <= max_error_message) return message;
    return message.substr(0, max_error_message) + "... (" + std::to_string(message.size() - max_error_message) +
           " more characters)";
}

class Error : public std::runtime_error {
public:
    Error(Status status, const std::string& message) : std::runtime_error(bounded_message(message)), status_(status) {}
    Status status() const { return status_; }

private:
    Status status_;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& out, const T& value, const Rest&... rest) {
    out << value;
    append(out, rest...);
}
}  // namespace detail

// fail(Status::json_error, "key '", key, "' must be positive, got ", value)
template <typename... Parts>
[[noreturn]] void fail(Status status, const Parts&... parts) {
    std::ostringstream out;
    out.precision(17);
    detail::append(out, parts...);
    throw Error(status, out.str());
}

}  // namespace atomfp
