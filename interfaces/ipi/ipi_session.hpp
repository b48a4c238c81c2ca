// The i-PI protocol as a message loop over any byte channel, separate from the sockets so that the
// parser can be driven from memory (unit tests, fuzzing) exactly as it is from a server.
//
// The protocol: 12-byte space-padded ASCII headers, native-endian int32 and float64, atomic units
// (Bohr, Hartree). The client is stateless between messages: read a header, act on it (i-PI may send
// POSDATA and GETFORCE back to back without a STATUS in between).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace atomfp_ipi {

// CODATA 2014, to the digits ASE derives from it. The protocol fixes no constants and every program
// uses its own; a crystal's stress is sensitive to them (a length scale off by 4e-10, the CODATA
// 2014/2018 difference, strains it enough to move the stress by ~1e-7 relative), so the client
// matches the most common server.
constexpr double bohr_in_angstrom = 0.5291772105638411;
constexpr double hartree_in_ev = 27.211386024367243;
constexpr int header_size = 12;
constexpr int32_t default_max_atoms = 10000000;
// The largest INIT payload accepted (i-PI sends a short string).
constexpr int32_t max_init_bytes = 1 << 24;
// The longest extra string the client sends.
constexpr int32_t max_extras_bytes = 1 << 24;

// A protocol violation, a failed transfer or a failed computation: the session ends with an error.
struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Thrown by a channel when the peer closed the connection before the first byte of a message.
struct Closed {};

// Where the bytes come from and go to.
class Channel {
public:
    virtual ~Channel() = default;
    // Reads exactly `size` bytes or throws: Closed if the peer closed before the first byte and
    // `at_message_start`, Failure otherwise.
    virtual void read_exact(void* data, size_t size, bool at_message_start) = 0;
    virtual void write_exact(const void* data, size_t size) = 0;
};

struct SessionOptions {
    int32_t max_atoms = default_max_atoms;
    // A peer closing the connection between messages ends the session normally (ASE's server does;
    // i-PI always sends EXIT, so there a closed connection means the server died).
    bool close_ends_session = false;
};

// positions [n][3] in Å, cell [3][3] (lattice vectors as rows, Å) or null for an open cluster;
// returns the energy (eV) and fills forces [n][3] (eV/Å), the virial [3][3] (eV) and `extras`, the
// protocol's free-form string sent after the virial (i-PI parses JSON there; empty by default).
using Compute = std::function<void(const std::vector<double>& positions, const double* cell, double& energy,
                                   std::vector<double>& forces, double* virial, std::string& extras)>;

// Serves the peer until EXIT (or a close, if allowed); returns the number of configurations
// computed. Throws Failure on any protocol violation.
long serve(Channel& channel, const SessionOptions& options, const Compute& compute);

}  // namespace atomfp_ipi
