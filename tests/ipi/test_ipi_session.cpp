// The i-PI message loop driven from memory: the replies and unit conversions of a whole conversation,
// and every protocol violation ending the session with a Failure (never a crash or a large
// allocation announced by a header).
#include "ipi_session.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace {

using atomfp_ipi::bohr_in_angstrom;
using atomfp_ipi::hartree_in_ev;

// The server's side of a conversation, built message by message.
class Script {
public:
    Script& header(const std::string& text) {
        std::string padded = text;
        padded.resize(atomfp_ipi::header_size, ' ');
        bytes_ += padded;
        return *this;
    }
    Script& int32(int32_t value) { return raw(&value, sizeof value); }
    Script& doubles(const std::vector<double>& values) { return raw(values.data(), values.size() * sizeof(double)); }
    Script& text(const std::string& value) { return raw(value.data(), value.size()); }
    const std::string& bytes() const { return bytes_; }

private:
    Script& raw(const void* data, size_t size) {
        bytes_.append(static_cast<const char*>(data), size);
        return *this;
    }
    std::string bytes_;
};

class ScriptChannel : public atomfp_ipi::Channel {
public:
    explicit ScriptChannel(std::string input) : input_(std::move(input)) {}
    void read_exact(void* data, size_t size, bool at_message_start) override {
        largest_read = std::max(largest_read, size);
        if (position_ == input_.size() && at_message_start) throw atomfp_ipi::Closed{};
        if (size > input_.size() - position_) throw atomfp_ipi::Failure("the server closed the connection");
        std::memcpy(data, input_.data() + position_, size);
        position_ += size;
    }
    void write_exact(const void* data, size_t size) override { output.append(static_cast<const char*>(data), size); }

    std::string output;
    size_t largest_read = 0;

private:
    std::string input_;
    size_t position_ = 0;
};

// A calculator whose results encode its inputs: E = Σ x (Å), F = position × 2, virial_ij = 10 i + j.
struct Recorder {
    std::vector<double> positions;
    std::vector<double> cell;
    bool open = false;
    int calls = 0;
    std::string extras;  // sent back as the extra string
    atomfp_ipi::Compute compute() {
        return [this](const std::vector<double>& x, const double* c, double& energy, std::vector<double>& forces,
                      double* virial, std::string& extras_out) {
            extras_out = extras;
            ++calls;
            positions = x;
            open = c == nullptr;
            cell = c ? std::vector<double>(c, c + 9) : std::vector<double>();
            energy = 0;
            for (size_t k = 0; k < x.size(); ++k) {
                energy += x[k];
                forces[k] = 2 * x[k];
            }
            for (int i = 0; i < 3; ++i)
                for (int j = 0; j < 3; ++j) virial[3 * i + j] = 10 * i + j;
        };
    }
};

std::vector<double> read_doubles(const std::string& bytes, size_t& at, size_t count) {
    std::vector<double> values(count);
    std::memcpy(values.data(), bytes.data() + at, count * sizeof(double));
    at += count * sizeof(double);
    return values;
}
int32_t read_int(const std::string& bytes, size_t& at) {
    int32_t value;
    std::memcpy(&value, bytes.data() + at, sizeof value);
    at += sizeof value;
    return value;
}
std::string read_header(const std::string& bytes, size_t& at) {
    std::string header = bytes.substr(at, atomfp_ipi::header_size);
    at += atomfp_ipi::header_size;
    return header.substr(0, header.find_last_not_of(' ') + 1);
}

// The cell as i-PI sends it: lattice vectors as columns, Bohr; non-symmetric so a transpose shows.
const std::vector<double> cell_columns = {10, 1, 2, 0, 11, 3, 0, 0, 12};
const std::vector<double> positions_bohr = {0, 0, 0, 1, 2, 3};

Script posdata(int32_t n, const std::vector<double>& positions, const std::vector<double>& h = cell_columns) {
    Script script;
    script.header("POSDATA").doubles(h).doubles(std::vector<double>(9, 0.0)).int32(n).doubles(positions);
    return script;
}

TEST(IpiSession, ConversationRepliesAndConvertsUnits) {
    Script script;
    script.header("STATUS").header("INIT").int32(0).int32(5).text("hello").header("STATUS");
    script.text(posdata(2, positions_bohr).bytes()).header("STATUS").header("GETFORCE").header("STATUS").header("EXIT");
    ScriptChannel channel(script.bytes());
    Recorder recorder;
    EXPECT_EQ(atomfp_ipi::serve(channel, {}, recorder.compute()), 1);

    ASSERT_EQ(recorder.calls, 1);
    ASSERT_EQ(recorder.positions.size(), 6u);
    for (size_t k = 0; k < 6; ++k) EXPECT_DOUBLE_EQ(recorder.positions[k], positions_bohr[k] * bohr_in_angstrom);
    ASSERT_EQ(recorder.cell.size(), 9u);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) EXPECT_DOUBLE_EQ(recorder.cell[3 * i + j], cell_columns[3 * j + i] * bohr_in_angstrom);

    const std::string& out = channel.output;
    size_t at = 0;
    EXPECT_EQ(read_header(out, at), "NEEDINIT");
    EXPECT_EQ(read_header(out, at), "READY");
    EXPECT_EQ(read_header(out, at), "HAVEDATA");
    EXPECT_EQ(read_header(out, at), "FORCEREADY");
    double sum_angstrom = 0;
    for (double x : positions_bohr) sum_angstrom += x * bohr_in_angstrom;
    EXPECT_DOUBLE_EQ(read_doubles(out, at, 1)[0], sum_angstrom / hartree_in_ev);
    EXPECT_EQ(read_int(out, at), 2);
    const std::vector<double> forces = read_doubles(out, at, 6);
    for (size_t k = 0; k < 6; ++k) {
        EXPECT_DOUBLE_EQ(forces[k], 2 * positions_bohr[k] * bohr_in_angstrom * bohr_in_angstrom / hartree_in_ev);
    }
    const std::vector<double> virial = read_doubles(out, at, 9);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) EXPECT_DOUBLE_EQ(virial[3 * i + j], (10 * j + i) / hartree_in_ev);
    EXPECT_EQ(read_int(out, at), 0);
    EXPECT_EQ(read_header(out, at), "READY");
    EXPECT_EQ(at, out.size());
}

TEST(IpiSession, ExtraStringFollowsTheVirialWithItsLength) {
    Script script = posdata(2, positions_bohr);
    script.header("GETFORCE").header("EXIT");
    ScriptChannel channel(script.bytes());
    Recorder recorder;
    recorder.extras = R"({"energy_variance": 0.25})";
    EXPECT_EQ(atomfp_ipi::serve(channel, {}, recorder.compute()), 1);
    const std::string& out = channel.output;
    size_t at = 0;
    EXPECT_EQ(read_header(out, at), "FORCEREADY");
    at += sizeof(double);
    EXPECT_EQ(read_int(out, at), 2);
    at += 15 * sizeof(double);  // forces and virial
    ASSERT_EQ(read_int(out, at), static_cast<int32_t>(recorder.extras.size()));
    EXPECT_EQ(out.substr(at), recorder.extras);
}

TEST(IpiSession, AllZeroCellIsAnOpenCluster) {
    Script script = posdata(2, positions_bohr, std::vector<double>(9, 0.0));
    script.header("EXIT");
    ScriptChannel channel(script.bytes());
    Recorder recorder;
    atomfp_ipi::serve(channel, {}, recorder.compute());
    EXPECT_TRUE(recorder.open);
}

TEST(IpiSession, AnnouncedAtomCountDoesNotSizeTheReads) {
    // 10^7 atoms announced, two sent: the client fails on the short stream having asked for no more
    // than one block of positions at a time.
    ScriptChannel channel(posdata(10000000, positions_bohr).bytes());
    Recorder recorder;
    EXPECT_THROW(atomfp_ipi::serve(channel, {}, recorder.compute()), atomfp_ipi::Failure);
    EXPECT_LE(channel.largest_read, size_t(1 << 16) * sizeof(double));
    EXPECT_EQ(recorder.calls, 0);
}

void expect_failure(const std::string& input, const std::string& message_part,
                    const atomfp_ipi::SessionOptions& options = {}) {
    ScriptChannel channel(input);
    Recorder recorder;
    try {
        atomfp_ipi::serve(channel, options, recorder.compute());
        ADD_FAILURE() << "no failure; expected one mentioning '" << message_part << "'";
    } catch (const atomfp_ipi::Failure& failure) {
        EXPECT_NE(std::string(failure.what()).find(message_part), std::string::npos) << failure.what();
    }
}

TEST(IpiSession, ProtocolViolationsEndTheSession) {
    atomfp_ipi::SessionOptions small;
    small.max_atoms = 1;
    expect_failure(posdata(2, positions_bohr).bytes(), "--max-atoms 1", small);
    expect_failure(posdata(0, {}).bytes(), "POSDATA with 0 atoms");
    expect_failure(posdata(-5, {}).bytes(), "POSDATA with -5 atoms");
    expect_failure(Script().header("INIT").int32(0).int32(-1).bytes(), "INIT with -1 bytes");
    expect_failure(Script().header("INIT").int32(0).int32(atomfp_ipi::max_init_bytes + 1).bytes(), "INIT with");
    expect_failure(Script().header("GETFORCE").bytes(), "GETFORCE before any POSDATA");
    expect_failure(Script().header(std::string("BAD\x01\xff", 5)).bytes(), "unexpected message 'BAD?" "?'");
    expect_failure(Script().header("POSDATA").doubles({1, 2, 3}).bytes(), "closed");
    expect_failure(std::string("STAT"), "closed");
}

TEST(IpiSession, ClosedConnectionIsAnErrorUnlessAllowed) {
    expect_failure(Script().header("STATUS").bytes(), "before sending any positions");
    const std::string one_step = posdata(2, positions_bohr).header("GETFORCE").bytes();
    expect_failure(one_step, "after 1 steps without EXIT");
    atomfp_ipi::SessionOptions ase;
    ase.close_ends_session = true;
    ScriptChannel channel(one_step);
    Recorder recorder;
    EXPECT_EQ(atomfp_ipi::serve(channel, ase, recorder.compute()), 1);
}

TEST(IpiSession, CalculatorFailureEndsTheSession) {
    ScriptChannel channel(posdata(2, positions_bohr).bytes());
    const atomfp_ipi::Compute failing = [](const std::vector<double>&, const double*, double&, std::vector<double>&,
                                           double*, std::string&) { throw atomfp_ipi::Failure("neighbour list refused"); };
    EXPECT_THROW(atomfp_ipi::serve(channel, {}, failing), atomfp_ipi::Failure);
}

}  // namespace
