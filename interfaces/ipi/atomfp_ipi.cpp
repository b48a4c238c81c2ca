// atomfp-ipi: an i-PI protocol client that answers a server (i-PI, ASE's SocketIOCalculator, ...)
// with energies, forces and virials from an atomfp model. It builds its own neighbour list for the
// received cell at every step and talks to atomfp only through the public headers (atomfp.hpp
// over atomfp.h). The protocol itself is in ipi_session.{hpp,cpp}; this file holds the sockets and
// the model.
#include <atomfp.hpp>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "element_symbols.hpp"
#include "ipi_session.hpp"

namespace {

using atomfp_ipi::Closed;
using atomfp_ipi::Failure;

struct Options {
    std::string model;
    std::string unix_name;
    std::string host = "127.0.0.1";
    int port = 0;
    std::string structure;
    std::string species;
    double timeout = 600;
    int32_t max_atoms = atomfp_ipi::default_max_atoms;
    bool close_ends_session = false;
    bool uncertainty = false;
};

// Prints the usage with `message` and exits: 0 on stdout when help was asked for, 2 on stderr otherwise.
[[noreturn]] void usage(const char* message, bool asked = false) {
    std::fprintf(asked ? stdout : stderr,
                 "atomfp-ipi: %s\n"
                 "usage: atomfp-ipi --model FILE (--unix NAME | --port PORT [--host HOST])\n"
                 "                  (--species SYMBOL | --structure FILE.xyz) [--timeout SECONDS]\n"
                 "                  [--max-atoms N] [--close-ends-session] [--uncertainty]\n"
                 "  --unix NAME       UNIX socket /tmp/ipi_NAME (i-PI's convention) or, with a '/', a path\n"
                 "  --species SYMBOL  every atom is this element\n"
                 "  --structure FILE  the elements of the atoms, in order, from an XYZ file\n"
                 "  --timeout S       give up after S seconds without a message (default 600)\n"
                 "  --max-atoms N     refuse configurations of more than N atoms (default 10000000)\n"
                 "  --close-ends-session  a server closing the connection between messages ends the\n"
                 "                    session normally (ASE's server does; i-PI sends EXIT, and without\n"
                 "                    this option a closed connection is an error)\n"
                 "  --uncertainty     send the model's posterior variances and extrapolation counts\n"
                 "                    as the JSON extra string of every step (i-PI prints its fields)\n",
                 message);
    std::exit(asked ? 0 : 2);
}

Options parse(int argc, char** argv) {
    Options options;
    for (int k = 1; k < argc; ++k) {
        const std::string key = argv[k];
        if (key == "--help" || key == "-h") usage("an i-PI client for atomfp models", true);
        if (key == "--close-ends-session") {
            options.close_ends_session = true;
            continue;
        }
        if (key == "--uncertainty") {
            options.uncertainty = true;
            continue;
        }
        if (k + 1 >= argc) usage(("missing value of " + key).c_str());
        const std::string value = argv[++k];
        if (key == "--model") {
            options.model = value;
        } else if (key == "--unix") {
            options.unix_name = value;
        } else if (key == "--host") {
            options.host = value;
        } else if (key == "--port") {
            options.port = std::atoi(value.c_str());
            if (options.port <= 0 || options.port > 65535) usage("--port must be in 1..65535");
        } else if (key == "--structure") {
            options.structure = value;
        } else if (key == "--species") {
            options.species = value;
        } else if (key == "--timeout") {
            options.timeout = std::atof(value.c_str());
            if (!(options.timeout > 0)) usage("--timeout must be positive");
        } else if (key == "--max-atoms") {
            const long n = std::strtol(value.c_str(), nullptr, 10);
            if (n <= 0 || n > INT32_MAX) usage("--max-atoms must be in 1..2147483647");
            options.max_atoms = static_cast<int32_t>(n);
        } else {
            usage(("unknown option " + key).c_str());
        }
    }
    if (options.model.empty()) usage("--model is required");
    if (options.unix_name.empty() == (options.port == 0)) usage("give exactly one of --unix and --port");
    if (options.species.empty() == options.structure.empty()) usage("give exactly one of --species and --structure");
    return options;
}

// Element symbols of an XYZ file's first frame.
std::vector<int32_t> read_structure_species(const std::string& path) {
    std::ifstream file(path);
    if (!file) throw Failure("cannot open the structure file " + path);
    std::string line;
    long n = 0;
    if (!std::getline(file, line) || (n = std::strtol(line.c_str(), nullptr, 10)) <= 0) {
        throw Failure(path + ": the first line must be the number of atoms");
    }
    std::getline(file, line);
    std::vector<int32_t> species;
    for (long i = 0; i < n; ++i) {
        if (!std::getline(file, line)) throw Failure(path + ": ends after " + std::to_string(i) + " atoms");
        std::istringstream fields(line);
        std::string symbol;
        fields >> symbol;
        const int z = atomfp_interfaces::atomic_number(symbol);
        if (z == 0) throw Failure(path + ": unknown element '" + symbol + "' on atom line " + std::to_string(i + 1));
        species.push_back(z);
    }
    return species;
}

class Connection : public atomfp_ipi::Channel {
public:
    explicit Connection(const Options& options) : timeout_(options.timeout) {
        const auto start = std::chrono::steady_clock::now();
        const auto deadline = start + std::chrono::duration<double>(options.timeout);
        // The server may still be starting: retry until the deadline. A UNIX socket file that
        // refuses connections for several seconds is a stale file left by a crashed server, which
        // would otherwise make the client wait for the whole timeout.
        for (;;) {
            std::string error;
            if (try_connect(options, error)) break;
            const auto now = std::chrono::steady_clock::now();
            if (refused_ && !options.unix_name.empty() && now - start > std::chrono::seconds(5)) {
                throw Failure("cannot connect: " + error + " (the socket file exists but nobody listens: a stale "
                              "file from a crashed server? remove it and restart the server)");
            }
            if (now > deadline) throw Failure("cannot connect: " + error);
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        timeval tv{};
        tv.tv_sec = static_cast<long>(timeout_);
        tv.tv_usec = static_cast<long>((timeout_ - static_cast<double>(tv.tv_sec)) * 1e6);
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    ~Connection() override {
        if (fd_ >= 0) close(fd_);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void read_exact(void* data, size_t size, bool at_message_start) override {
        char* bytes = static_cast<char*>(data);
        size_t done = 0;
        while (done < size) {
            const ssize_t n = recv(fd_, bytes + done, size - done, 0);
            if (n > 0) {
                done += static_cast<size_t>(n);
            } else if (n == 0) {
                if (at_message_start && done == 0) throw Closed{};
                throw Failure("the server closed the connection in the middle of a message");
            } else if (errno == EINTR) {
                continue;
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                throw Failure("no message from the server for " + std::to_string(timeout_) + " s (--timeout)");
            } else {
                throw Failure(std::string("reading from the server: ") + std::strerror(errno));
            }
        }
    }
    void write_exact(const void* data, size_t size) override {
        const char* bytes = static_cast<const char*>(data);
        size_t done = 0;
        while (done < size) {
            const ssize_t n = send(fd_, bytes + done, size - done, MSG_NOSIGNAL);
            if (n > 0) {
                done += static_cast<size_t>(n);
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else {
                throw Failure(std::string("writing to the server: ") + std::strerror(errno));
            }
        }
    }

private:
    bool try_connect(const Options& options, std::string& error) {
        if (!options.unix_name.empty()) {
            const std::string path =
                options.unix_name.find('/') == std::string::npos ? "/tmp/ipi_" + options.unix_name : options.unix_name;
            sockaddr_un address{};
            address.sun_family = AF_UNIX;
            if (path.size() >= sizeof address.sun_path) throw Failure("socket path too long: " + path);
            std::strcpy(address.sun_path, path.c_str());
            fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
            if (fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) return true;
            refused_ = errno == ECONNREFUSED;
            error = path + ": " + std::strerror(errno);
        } else {
            addrinfo hints{};
            hints.ai_family = AF_UNSPEC;
            hints.ai_socktype = SOCK_STREAM;
            addrinfo* found = nullptr;
            const int status = getaddrinfo(options.host.c_str(), std::to_string(options.port).c_str(), &hints, &found);
            if (status != 0) throw Failure("cannot resolve " + options.host + ": " + gai_strerror(status));
            error = options.host + ":" + std::to_string(options.port) + ": no address";
            for (addrinfo* a = found; a; a = a->ai_next) {
                fd_ = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
                if (fd_ >= 0 && connect(fd_, a->ai_addr, a->ai_addrlen) == 0) {
                    const int one = 1;
                    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    freeaddrinfo(found);
                    return true;
                }
                error = options.host + ":" + std::to_string(options.port) + ": " + std::strerror(errno);
                if (fd_ >= 0) close(fd_);
                fd_ = -1;
            }
            freeaddrinfo(found);
            return false;
        }
        if (fd_ >= 0) close(fd_);
        fd_ = -1;
        return false;
    }

    int fd_ = -1;
    double timeout_;
    bool refused_ = false;
};

void append_array(std::ostringstream& out, const char* key, const std::vector<double>& values) {
    out << ", \"" << key << "\": [";
    for (size_t k = 0; k < values.size(); ++k) out << (k ? ", " : "") << values[k];
    out << "]";
}

// The model and a neighbour list per step; failures arrive as atomfp::Error (atomfp.hpp).
class Calculator {
public:
    Calculator(const std::string& path, bool uncertainty) : model_(path), cutoff_(model_.cutoff()), uncertainty_(uncertainty) {}

    // positions [n][3] and cell [3][3] (rows) in Å; energy eV, forces eV/Å, virial eV; with
    // --uncertainty, extras is a JSON object (eV², counts per atom).
    void compute(const std::vector<double>& positions, const std::vector<int32_t>& species, const double* cell,
                 double& energy, std::vector<double>& forces, double* virial, std::string& extras) {
        const atomfp::NeighbourList list(static_cast<int64_t>(species.size()), positions.data(), species.data(), cell,
                                         nullptr, cutoff_);
        model_.predict(list.system(), &energy, nullptr, forces.data(), virial);
        if (uncertainty_) extras = uncertainty(list.system());
    }

private:
    std::string uncertainty(const atomfp_system_t& system) {
        const size_t n = static_cast<size_t>(system.n_centers);
        std::vector<double> variances(n);
        double total = 0;
        model_.predict_variance(system, variances.data(), &total);
        std::ostringstream out;
        out.precision(10);
        out << "{\"energy_variance\": " << total << ", \"energy_sigma\": " << std::sqrt(std::max(total, 0.0))
            << ", \"max_atom_variance\": " << *std::max_element(variances.begin(), variances.end());
        append_array(out, "atom_variances", variances);
        if (ranges_) {
            std::vector<int64_t> outside(n);
            try {
                model_.extrapolation(system, outside.data(), nullptr);
                const long extrapolating = std::count_if(outside.begin(), outside.end(), [](int64_t k) { return k > 0; });
                out << ", \"extrapolating_atoms\": " << extrapolating;
                append_array(out, "features_outside", std::vector<double>(outside.begin(), outside.end()));
            } catch (const atomfp::Error& failure) {
                if (failure.status() != ATOMFP_ERROR_NOT_AVAILABLE) throw;
                std::fprintf(stderr, "atomfp-ipi: the model has no feature ranges, so no extrapolation counts\n");
                ranges_ = false;
            }
        }
        out << "}";
        return out.str();
    }

    const atomfp::Model model_;
    const double cutoff_;
    const bool uncertainty_;
    bool ranges_ = true;  // until the model says it has none
};

int run(const Options& options) {
    Calculator calculator(options.model, options.uncertainty);
    std::vector<int32_t> species;
    if (!options.structure.empty()) species = read_structure_species(options.structure);
    int32_t fixed_species = 0;
    if (!options.species.empty()) {
        fixed_species = atomfp_interfaces::atomic_number(options.species);
        if (fixed_species == 0) throw Failure("unknown element '" + options.species + "'");
    }

    Connection connection(options);
    atomfp_ipi::SessionOptions session;
    session.max_atoms = options.max_atoms;
    session.close_ends_session = options.close_ends_session;
    atomfp_ipi::serve(connection, session,
                      [&](const std::vector<double>& positions, const double* cell, double& energy,
                          std::vector<double>& forces, double* virial, std::string& extras) {
                          const size_t n = positions.size() / 3;
                          if (fixed_species) species.assign(n, fixed_species);
                          if (species.size() != n) {
                              throw Failure("the server sent " + std::to_string(n) + " atoms but --structure has " +
                                            std::to_string(species.size()));
                          }
                          calculator.compute(positions, species, cell, energy, forces, virial, extras);
                      });
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse(argc, argv);
    try {
        return run(options);
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "atomfp-ipi: error: out of memory\n");
        return 1;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "atomfp-ipi: error: %s\n", error.what());
        return 1;
    }
}
