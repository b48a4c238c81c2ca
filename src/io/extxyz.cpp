#include "io/extxyz.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "io/input_file.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <istream>
#include <sstream>

namespace atomfp {

namespace {

class LineReader {
public:
    LineReader(std::istream& input, std::string name) : input_(input), name_(std::move(name)) {}

    bool next(std::string& line) {
        if (!std::getline(input_, line)) return false;
        ++number_;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return true;
    }

    template <typename... Parts>
    [[noreturn]] void error(const Parts&... parts) const {
        fail(Status::format, name_, ":", number_, ": ", parts...);
    }

    int64_t number() const { return number_; }

private:
    std::istream& input_;
    std::string name_;
    int64_t number_ = 0;
};

std::vector<std::string> split_whitespace(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream stream(text);
    std::string token;
    while (stream >> token) out.push_back(token);
    return out;
}

double parse_real(const LineReader& reader, const std::string& text, const std::string& what) {
    errno = 0;
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE) {
        reader.error(what, ": '", text, "' is not a number");
    }
    if (!std::isfinite(value)) reader.error(what, ": '", text, "' is not finite");
    return value;
}

int64_t parse_integer(const LineReader& reader, const std::string& text, const std::string& what) {
    errno = 0;
    char* end = nullptr;
    long long value = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE) {
        reader.error(what, ": '", text, "' is not an integer");
    }
    return value;
}

// key=value pairs; values may be "quoted" (with \" escapes) or {braced}; a bare key is a flag.
std::map<std::string, std::string> parse_comment(const LineReader& reader, const std::string& line) {
    std::map<std::string, std::string> out;
    std::size_t i = 0;
    const std::size_t n = line.size();
    auto skip_space = [&] {
        while (i < n && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    };
    auto read_value = [&]() {
        std::string value;
        if (i < n && (line[i] == '"' || line[i] == '{')) {
            const char close = line[i] == '"' ? '"' : '}';
            ++i;
            while (i < n && line[i] != close) {
                if (line[i] == '\\' && i + 1 < n) ++i;
                value += line[i++];
            }
            if (i >= n) reader.error("unterminated ", close == '"' ? "quoted" : "braced", " value in the comment line");
            ++i;
        } else {
            while (i < n && !std::isspace(static_cast<unsigned char>(line[i]))) value += line[i++];
        }
        return value;
    };
    while (true) {
        skip_space();
        if (i >= n) break;
        std::string key;
        if (line[i] == '"') {
            key = read_value();
        } else {
            while (i < n && line[i] != '=' && !std::isspace(static_cast<unsigned char>(line[i]))) key += line[i++];
        }
        skip_space();
        if (i < n && line[i] == '=') {
            ++i;
            skip_space();
            out[key] = read_value();
        } else {
            out[key] = "T";
        }
    }
    return out;
}

Mat3 parse_matrix(const LineReader& reader, const std::string& key, const std::string& text, bool allow_voigt) {
    std::vector<std::string> parts = split_whitespace(text);
    std::vector<double> v;
    for (const auto& p : parts) v.push_back(parse_real(reader, p, key));
    if (v.size() == 9) return {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]};
    if (allow_voigt && v.size() == 6) {  // xx yy zz yz xz xy
        return {v[0], v[5], v[4], v[5], v[1], v[3], v[4], v[3], v[2]};
    }
    reader.error(key, " must have 9 numbers", allow_voigt ? " (or 6 in Voigt order)" : "", ", got ", v.size());
}

bool parse_bool(const std::string& text, bool& value) {
    if (text == "T" || text == "True" || text == "true" || text == "1") return value = true, true;
    if (text == "F" || text == "False" || text == "false" || text == "0") return value = false, true;
    return false;
}

struct Column {
    std::string name;
    char type;
    int64_t count;
};

std::vector<Column> parse_properties(const LineReader& reader, const std::string& text) {
    std::vector<std::string> parts;
    std::string part;
    std::istringstream stream(text);
    while (std::getline(stream, part, ':')) parts.push_back(part);
    if (parts.empty() || parts.size() % 3 != 0) {
        reader.error("Properties='", text, "' must be name:type:count triples");
    }
    std::vector<Column> columns;
    for (std::size_t c = 0; c < parts.size(); c += 3) {
        const std::string& type = parts[c + 1];
        if (type.size() != 1 || std::string("SRIL").find(type[0]) == std::string::npos) {
            reader.error("Properties column '", parts[c], "' has unknown type '", type, "' (expected S, R, I or L)");
        }
        int64_t count = parse_integer(reader, parts[c + 2], "Properties column '" + parts[c] + "' count");
        if (count < 1 || count > 1000) reader.error("Properties column '", parts[c], "' has count ", count);
        columns.push_back({parts[c], type[0], count});
    }
    return columns;
}

}  // namespace

std::vector<Frame> parse_extxyz(std::istream& input, const std::string& source_name, const LabelKeys& labels) {
    LineReader reader(input, source_name);
    std::vector<Frame> frames;
    std::string line;
    while (reader.next(line)) {
        std::vector<std::string> count_tokens = split_whitespace(line);
        if (count_tokens.empty()) continue;  // blank lines between frames
        if (count_tokens.size() != 1) reader.error("expected the number of atoms, got '", line, "'");
        const int64_t n_atoms = parse_integer(reader, count_tokens[0], "number of atoms");
        if (n_atoms < 0) reader.error("the number of atoms must be >= 0, got ", n_atoms);
        if (!reader.next(line)) reader.error("the file ends before the comment line of a frame");
        std::map<std::string, std::string> info = parse_comment(reader, line);

        Frame frame;
        std::vector<Column> columns = {{"species", 'S', 1}, {"pos", 'R', 3}};
        for (auto& [key, value] : info) {
            if (key == "Lattice") {
                frame.cell = parse_matrix(reader, key, value, false);
            } else if (key == "Properties") {
                columns = parse_properties(reader, value);
            } else if (key == "pbc") {
                std::vector<std::string> flags = split_whitespace(value);
                if (flags.size() != 3) reader.error("pbc must have 3 flags, got '", value, "'");
                for (int k = 0; k < 3; ++k) {
                    if (!parse_bool(flags[k], frame.pbc[k])) reader.error("pbc flag '", flags[k], "' is not T or F");
                }
            } else if (key == labels.energy) {
                frame.energy = parse_real(reader, value, key);
            } else if (key == labels.stress) {
                frame.stress = parse_matrix(reader, key, value, true);
            } else if (key == labels.virial) {
                frame.virial = parse_matrix(reader, key, value, true);
            } else {
                frame.info[key] = value;
            }
        }
        if (frame.cell && !info.count("pbc")) frame.pbc = {true, true, true};
        if (!frame.cell && (frame.pbc[0] || frame.pbc[1] || frame.pbc[2])) reader.error("pbc is set but there is no Lattice");

        int species_column = -1, position_column = -1, force_column = -1;
        const bool default_forces = labels.forces == LabelKeys().forces;
        std::vector<int> extra_of_column(columns.size(), -1);
        int64_t n_tokens = 0;
        for (std::size_t c = 0; c < columns.size(); ++c) {
            const Column& col = columns[c];
            if ((col.name == "species" && col.type == 'S') || (col.name == "Z" && col.type == 'I')) {
                if (col.count != 1) reader.error("column '", col.name, "' must have count 1");
                species_column = static_cast<int>(c);
            } else if (col.name == "pos") {
                if (col.type != 'R' || col.count != 3) reader.error("column 'pos' must be R:3");
                position_column = static_cast<int>(c);
            } else if (col.name == labels.forces || (default_forces && col.name == "force")) {
                if (col.type != 'R' || col.count != 3) reader.error("column '", col.name, "' must be R:3");
                force_column = static_cast<int>(c);
            } else {
                extra_of_column[c] = static_cast<int>(frame.extra_columns.size());
                frame.extra_columns.push_back({col.name, col.type, col.count, {}});
            }
            n_tokens += col.count;
        }
        if (species_column < 0) reader.error("Properties has no 'species:S:1' or 'Z:I:1' column");
        if (position_column < 0) reader.error("Properties has no 'pos:R:3' column");

        const int64_t reserve = std::min<int64_t>(n_atoms, 1 << 20);
        frame.species.reserve(reserve);
        frame.positions.reserve(3 * reserve);
        if (force_column >= 0) frame.forces.reserve(3 * reserve);
        for (int64_t a = 0; a < n_atoms; ++a) {
            if (!reader.next(line)) reader.error("the file ends after ", a, " of ", n_atoms, " atom lines");
            std::vector<std::string> tokens = split_whitespace(line);
            if (static_cast<int64_t>(tokens.size()) != n_tokens) {
                reader.error("expected ", n_tokens, " columns for atom ", a, ", got ", tokens.size());
            }
            std::size_t t = 0;
            for (std::size_t c = 0; c < columns.size(); ++c) {
                const int col = static_cast<int>(c);
                if (col == species_column) {
                    int32_t z = 0;
                    if (columns[c].type == 'S') {
                        z = atomic_number(tokens[t]);
                        if (z == 0) reader.error("'", tokens[t], "' is not a chemical symbol");
                    } else {
                        int64_t value = parse_integer(reader, tokens[t], "atomic number");
                        if (value < 1 || value > 118) reader.error("atomic number ", value, " is out of range [1, 118]");
                        z = static_cast<int32_t>(value);
                    }
                    frame.species.push_back(z);
                } else if (col == position_column || col == force_column) {
                    std::vector<double>& target = col == position_column ? frame.positions : frame.forces;
                    for (int k = 0; k < 3; ++k) target.push_back(parse_real(reader, tokens[t + k], columns[c].name));
                } else if (extra_of_column[c] >= 0) {
                    std::vector<std::string>& values = frame.extra_columns[extra_of_column[c]].values;
                    values.insert(values.end(), tokens.begin() + t, tokens.begin() + t + columns[c].count);
                }
                t += static_cast<std::size_t>(columns[c].count);
            }
        }
        frames.push_back(std::move(frame));
    }
    return frames;
}

std::vector<Frame> read_extxyz(const std::string& path, const LabelKeys& labels) {
    std::ifstream input = open_input_file(path, "structure file");
    std::vector<Frame> frames = parse_extxyz(input, path, labels);
    if (frames.empty()) fail(Status::format, "'", path, "' holds no structures");
    return frames;
}

namespace {
void write_matrix(std::ostream& out, const char* key, const Mat3& m) {
    out << ' ' << key << "=\"";
    for (int i = 0; i < 9; ++i) out << (i ? " " : "") << m[i];
    out << '"';
}
}  // namespace

void write_extxyz(std::ostream& out, const Frame& frame, const LabelKeys& labels) {
    const auto precision = out.precision(17);
    const int64_t n = frame.size();
    for (const ExtraColumn& column : frame.extra_columns) {
        if (static_cast<int64_t>(column.values.size()) != n * column.count) {
            fail(Status::invalid_argument, "column '", column.name, "' has ", column.values.size(), " values for ", n,
                 " atoms x ", column.count);
        }
    }
    out << n << '\n';
    if (frame.cell) write_matrix(out, "Lattice", *frame.cell);
    out << " Properties=species:S:1:pos:R:3";
    if (!frame.forces.empty()) out << ':' << labels.forces << ":R:3";
    for (const ExtraColumn& column : frame.extra_columns) out << ':' << column.name << ':' << column.type << ':' << column.count;
    if (frame.energy) out << ' ' << labels.energy << '=' << *frame.energy;
    if (frame.stress) write_matrix(out, labels.stress.c_str(), *frame.stress);
    if (frame.virial) write_matrix(out, labels.virial.c_str(), *frame.virial);
    for (const auto& [key, value] : frame.info) out << ' ' << key << "=\"" << value << '"';
    out << " pbc=\"" << (frame.pbc[0] ? 'T' : 'F') << ' ' << (frame.pbc[1] ? 'T' : 'F') << ' '
        << (frame.pbc[2] ? 'T' : 'F') << "\"\n";
    for (int64_t a = 0; a < frame.size(); ++a) {
        out << element_symbol(frame.species[a]);
        for (int k = 0; k < 3; ++k) out << ' ' << frame.positions[3 * a + k];
        if (!frame.forces.empty()) {
            for (int k = 0; k < 3; ++k) out << ' ' << frame.forces[3 * a + k];
        }
        for (const ExtraColumn& column : frame.extra_columns) {
            for (int64_t k = 0; k < column.count; ++k) out << ' ' << column.values[a * column.count + k];
        }
        out << '\n';
    }
    out.precision(precision);
}

}  // namespace atomfp
