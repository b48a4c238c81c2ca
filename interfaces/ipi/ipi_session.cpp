#include "ipi_session.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

namespace atomfp_ipi {
namespace {

// Positions are read in blocks of this many values, so memory follows the data actually received
// rather than the atom count a header announces.
constexpr size_t read_block = 1 << 16;

class Messages {
public:
    explicit Messages(Channel& channel) : channel_(channel) {}

    std::string read_header() {
        char buffer[header_size];
        channel_.read_exact(buffer, header_size, true);
        std::string header(buffer, header_size);
        header.erase(header.find_last_not_of(' ') + 1);
        return header;
    }
    int32_t read_int() {
        int32_t value;
        channel_.read_exact(&value, sizeof value, false);
        return value;
    }
    void read_doubles(double* values, size_t count) { channel_.read_exact(values, count * sizeof(double), false); }
    void skip(size_t count) {
        char discard[4096];
        while (count > 0) {
            const size_t now = std::min(count, sizeof discard);
            channel_.read_exact(discard, now, false);
            count -= now;
        }
    }

    void write_header(const char* header) {
        char buffer[header_size];
        std::memset(buffer, ' ', header_size);
        std::memcpy(buffer, header, std::strlen(header));
        channel_.write_exact(buffer, header_size);
    }
    void write_int(int32_t value) { channel_.write_exact(&value, sizeof value); }
    void write_doubles(const double* values, size_t count) { channel_.write_exact(values, count * sizeof(double)); }

private:
    Channel& channel_;
};

std::string printable(const std::string& header) {
    std::string text;
    for (char c : header) text += (c >= 32 && c < 127) ? c : '?';
    return text;
}

}  // namespace

long serve(Channel& channel, const SessionOptions& options, const Compute& compute) {
    Messages messages(channel);
    bool initialised = false, have_forces = false;
    long steps = 0;
    double energy = 0, virial[9] = {0};
    std::vector<double> forces, positions;
    std::string extras;
    for (;;) {
        std::string header;
        try {
            header = messages.read_header();
        } catch (const Closed&) {
            if (steps == 0) throw Failure("the server closed the connection before sending any positions");
            if (!options.close_ends_session) {
                throw Failure("the server closed the connection after " + std::to_string(steps) +
                              " steps without EXIT (did it crash? --close-ends-session accepts this, as ASE's "
                              "server ends its sessions)");
            }
            std::fprintf(stderr, "atomfp-ipi: the server closed the connection after %ld steps\n", steps);
            return steps;
        }
        if (header == "STATUS") {
            messages.write_header(!initialised ? "NEEDINIT" : have_forces ? "HAVEDATA" : "READY");
        } else if (header == "INIT") {
            messages.read_int();  // bead index
            const int32_t n_bytes = messages.read_int();
            if (n_bytes < 0 || n_bytes > max_init_bytes) throw Failure("INIT with " + std::to_string(n_bytes) + " bytes");
            messages.skip(static_cast<size_t>(n_bytes));
            initialised = true;
        } else if (header == "POSDATA") {
            double h[9], inverse[9];
            messages.read_doubles(h, 9);
            messages.read_doubles(inverse, 9);
            const int32_t n = messages.read_int();
            if (n <= 0 || n > options.max_atoms) {
                throw Failure("POSDATA with " + std::to_string(n) + " atoms (--max-atoms " +
                              std::to_string(options.max_atoms) + ")");
            }
            const size_t values = 3 * static_cast<size_t>(n);
            positions.clear();
            while (positions.size() < values) {
                const size_t done = positions.size();
                positions.resize(std::min(values, done + read_block));
                messages.read_doubles(positions.data() + done, positions.size() - done);
            }
            // The cell arrives with the lattice vectors as columns, in Bohr; atomfp wants rows, in Å.
            // An all-zero cell (ASE's server for a molecule) means an open cluster.
            double cell[9];
            bool open = true;
            for (int i = 0; i < 3; ++i)
                for (int j = 0; j < 3; ++j) {
                    cell[3 * i + j] = h[3 * j + i] * bohr_in_angstrom;
                    open = open && h[3 * j + i] == 0.0;
                }
            for (double& x : positions) x *= bohr_in_angstrom;
            forces.assign(values, 0.0);
            extras.clear();
            compute(positions, open ? nullptr : cell, energy, forces, virial, extras);
            if (extras.size() > static_cast<size_t>(max_extras_bytes)) throw Failure("the calculator's extra string is too long");
            if (forces.size() != values) throw Failure("the calculator returned forces of the wrong size");
            have_forces = true;
            ++steps;
        } else if (header == "GETFORCE") {
            if (!have_forces) throw Failure("GETFORCE before any POSDATA");
            messages.write_header("FORCEREADY");
            const double energy_au = energy / hartree_in_ev;
            messages.write_doubles(&energy_au, 1);
            messages.write_int(static_cast<int32_t>(forces.size() / 3));
            for (double& f : forces) f *= bohr_in_angstrom / hartree_in_ev;
            messages.write_doubles(forces.data(), forces.size());
            double virial_au[9];
            for (int i = 0; i < 3; ++i)
                for (int j = 0; j < 3; ++j) virial_au[3 * i + j] = virial[3 * j + i] / hartree_in_ev;
            messages.write_doubles(virial_au, 9);
            messages.write_int(static_cast<int32_t>(extras.size()));
            if (!extras.empty()) channel.write_exact(extras.data(), extras.size());
            have_forces = false;
        } else if (header == "EXIT") {
            std::fprintf(stderr, "atomfp-ipi: EXIT after %ld steps\n", steps);
            return steps;
        } else {
            throw Failure("unexpected message '" + printable(header) + "' from the server");
        }
    }
}

}  // namespace atomfp_ipi
