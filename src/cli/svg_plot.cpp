#include "cli/svg_plot.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

namespace atomfp::cli {

namespace {

// More legend entries than this end in "... and N more" (a bulk manifold figure can list dozens).
constexpr std::size_t max_legend_entries = 12;

const char* const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string number(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f", value);
    return buffer;
}

std::string tick_label(double value, bool logarithmic) {
    char buffer[32];
    if (logarithmic) {
        std::snprintf(buffer, sizeof buffer, "1e%d", static_cast<int>(std::lround(std::log10(value))));
    } else {
        std::snprintf(buffer, sizeof buffer, "%.6g", std::abs(value) < 1e-14 ? 0.0 : value);
    }
    return buffer;
}

// One axis: data range (in log10 units for a log axis) and tick positions.
struct Axis {
    bool logarithmic = false;
    double low = 0.0, high = 1.0;
    std::vector<double> ticks;  // data values

    double transform(double v) const { return logarithmic ? std::log10(v) : v; }
    bool accepts(double v) const { return std::isfinite(v) && (!logarithmic || v > 0.0); }
    // Fraction of the way from low to high.
    double fraction(double v) const { return (transform(v) - low) / (high - low); }

    void fit(double lo, double hi) {
        if (!(lo <= hi)) lo = hi = logarithmic ? 0.0 : 0.0;
        if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {
            const double pad = logarithmic ? 0.5 : std::max(0.5 * std::abs(hi), 0.5);
            lo -= pad;
            hi += pad;
        }
        ticks.clear();
        if (logarithmic) {
            low = std::floor(lo);
            high = std::ceil(hi);
            const int decades = static_cast<int>(high - low);
            const int stride = std::max(1, (decades + 7) / 8);
            for (int e = static_cast<int>(low); e <= static_cast<int>(high); e += stride) ticks.push_back(std::pow(10.0, e));
        } else {
            const double raw = (hi - lo) / 6.0, magnitude = std::pow(10.0, std::floor(std::log10(raw)));
            double step = magnitude;
            for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
                step = m * magnitude;
                if (step >= raw) break;
            }
            low = std::floor(lo / step) * step;
            high = std::ceil(hi / step) * step;
            for (double t = low; t <= high + 0.5 * step; t += step) ticks.push_back(t);
        }
    }
};

void draw_marker(std::ostringstream& out, Series::Marker marker, double x, double y, const std::string& colour) {
    const double r = 3.0;
    switch (marker) {
        case Series::Marker::circle:
            out << "<circle cx=\"" << number(x) << "\" cy=\"" << number(y) << "\" r=\"" << r << "\" fill=\"none\" stroke=\""
                << colour << "\" stroke-width=\"1.2\"/>\n";
            break;
        case Series::Marker::triangle:
            out << "<polygon points=\"" << number(x) << "," << number(y - r * 1.2) << " " << number(x - r) << ","
                << number(y + r * 0.8) << " " << number(x + r) << "," << number(y + r * 0.8) << "\" fill=\"" << colour
                << "\"/>\n";
            break;
        case Series::Marker::square:
            out << "<rect x=\"" << number(x - r) << "\" y=\"" << number(y - r) << "\" width=\"" << 2 * r << "\" height=\""
                << 2 * r << "\" fill=\"" << colour << "\"/>\n";
            break;
    }
}

// Viridis-like ramp through five stops, t in [0, 1].
std::string ramp(double t) {
    static const double stops[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    t = std::min(std::max(t, 0.0), 1.0) * 4.0;
    const int i = std::min(static_cast<int>(t), 3);
    const double f = t - i;
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "#%02x%02x%02x", static_cast<int>(stops[i][0] + f * (stops[i + 1][0] - stops[i][0])),
                  static_cast<int>(stops[i][1] + f * (stops[i + 1][1] - stops[i][1])),
                  static_cast<int>(stops[i][2] + f * (stops[i + 1][2] - stops[i][2])));
    return buffer;
}

void render_heatmap(std::ostringstream& out, const Panel& panel, double left, double top, double width, double height) {
    const Heatmap& h = panel.heatmap.front();
    // Room for the longest row label (about 6.2 px per character at 11 px) and a colour bar.
    std::size_t longest = 0;
    for (const std::string& label : h.y_labels) longest = std::max(longest, label.size());
    const double margin_left = std::max(80.0, 34.0 + 6.2 * static_cast<double>(longest)), margin_right = 78.0;
    const double margin_top = 28.0, margin_bottom = 46.0;
    const double plot_left = left + margin_left, plot_top = top + margin_top;
    const double plot_width = width - margin_left - margin_right, plot_height = height - margin_top - margin_bottom;
    const std::size_t nx = h.x_labels.size(), ny = h.y_labels.size();
    if (nx == 0 || ny == 0 || h.values.size() != nx * ny) return;
    auto scaled = [&](double v) { return h.log_colour ? std::log10(v) : v; };
    double lo = INFINITY, hi = -INFINITY;
    for (double v : h.values)
        if (std::isfinite(v) && (!h.log_colour || v > 0.0)) lo = std::min(lo, scaled(v)), hi = std::max(hi, scaled(v));
    out << "<g>\n<text x=\"" << number(left + width / 2) << "\" y=\"" << number(top + 18)
        << "\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">" << escape(panel.title) << "</text>\n";
    const double cw = plot_width / nx, ch = plot_height / ny;
    for (std::size_t iy = 0; iy < ny; ++iy)
        for (std::size_t ix = 0; ix < nx; ++ix) {
            const double v = h.values[iy * nx + ix];
            const bool valid = std::isfinite(v) && (!h.log_colour || v > 0.0);
            const double t = valid && hi > lo ? (scaled(v) - lo) / (hi - lo) : 0.5;
            const double x = plot_left + ix * cw, y = plot_top + (ny - 1 - iy) * ch;
            out << "<rect x=\"" << number(x) << "\" y=\"" << number(y) << "\" width=\"" << number(cw) << "\" height=\""
                << number(ch) << "\" fill=\"" << (valid ? ramp(t) : std::string("#bbb")) << "\" stroke=\"#fff\"/>\n";
            char text[32];
            std::snprintf(text, sizeof text, "%.3g", v);
            out << "<text x=\"" << number(x + cw / 2) << "\" y=\"" << number(y + ch / 2 + 4) << "\" text-anchor=\"middle\" "
                << "font-size=\"11\" fill=\"" << (t > 0.6 ? "#000" : "#fff") << "\">" << text << "</text>\n";
        }
    if (h.marked >= 0 && static_cast<std::size_t>(h.marked) < nx * ny) {
        const std::size_t ix = static_cast<std::size_t>(h.marked) % nx, iy = static_cast<std::size_t>(h.marked) / nx;
        out << "<rect x=\"" << number(plot_left + ix * cw + 1.5) << "\" y=\"" << number(plot_top + (ny - 1 - iy) * ch + 1.5)
            << "\" width=\"" << number(cw - 3) << "\" height=\"" << number(ch - 3)
            << "\" fill=\"none\" stroke=\"#e41a1c\" stroke-width=\"3\"><title>best</title></rect>\n";
    }
    // Colour bar: the ramp from the lowest to the highest value, labelled at both ends.
    if (hi >= lo && std::isfinite(lo)) {
        const double bar_left = plot_left + plot_width + 14, bar_width = 12;
        const int steps = 32;
        for (int k = 0; k < steps; ++k) {
            const double y = plot_top + plot_height * (1.0 - static_cast<double>(k + 1) / steps);
            out << "<rect x=\"" << number(bar_left) << "\" y=\"" << number(y) << "\" width=\"" << bar_width << "\" height=\""
                << number(plot_height / steps + 0.5) << "\" fill=\"" << ramp((k + 0.5) / steps) << "\"/>\n";
        }
        auto value_of = [&](double scaled_value) { return h.log_colour ? std::pow(10.0, scaled_value) : scaled_value; };
        char text[32];
        std::snprintf(text, sizeof text, "%.3g", value_of(hi));
        out << "<text x=\"" << number(bar_left + bar_width + 3) << "\" y=\"" << number(plot_top + 9) << "\" font-size=\"10\">"
            << text << "</text>\n";
        std::snprintf(text, sizeof text, "%.3g", value_of(lo));
        out << "<text x=\"" << number(bar_left + bar_width + 3) << "\" y=\"" << number(plot_top + plot_height) << "\" font-size=\"10\">"
            << text << "</text>\n";
    }
    for (std::size_t ix = 0; ix < nx; ++ix) {
        out << "<text x=\"" << number(plot_left + (ix + 0.5) * cw) << "\" y=\"" << number(plot_top + plot_height + 15)
            << "\" text-anchor=\"middle\" font-size=\"11\">" << escape(h.x_labels[ix]) << "</text>\n";
    }
    for (std::size_t iy = 0; iy < ny; ++iy) {
        out << "<text x=\"" << number(plot_left - 5) << "\" y=\"" << number(plot_top + (ny - 0.5 - iy) * ch + 4)
            << "\" text-anchor=\"end\" font-size=\"11\">" << escape(h.y_labels[iy]) << "</text>\n";
    }
    out << "<text x=\"" << number(plot_left + plot_width / 2) << "\" y=\"" << number(top + height - 8)
        << "\" text-anchor=\"middle\" font-size=\"12\">" << escape(panel.x_label) << "</text>\n";
    const double label_x = left + 14, label_y = plot_top + plot_height / 2;
    out << "<text x=\"" << number(label_x) << "\" y=\"" << number(label_y) << "\" text-anchor=\"middle\" font-size=\"12\" "
        << "transform=\"rotate(-90 " << number(label_x) << " " << number(label_y) << ")\">" << escape(panel.y_label)
        << "</text>\n</g>\n";
}

void render_panel(std::ostringstream& out, const Panel& panel, double left, double top, double width, double height,
                  std::size_t& colour_index) {
    // Colours first, so that the legend can be laid out beside the plot, never over the data.
    std::vector<std::string> colours;
    std::vector<std::pair<const Series*, std::string>> legend;
    for (const Series& s : panel.series) {
        colours.push_back(s.colour.empty() ? palette[colour_index++ % std::size(palette)] : s.colour);
        if (!s.label.empty()) legend.emplace_back(&s, colours.back());
    }
    const std::size_t shown = std::min(legend.size(), max_legend_entries);
    std::size_t longest = legend.size() > shown ? 14 : 0;  // "... and N more"
    for (std::size_t k = 0; k < shown; ++k) longest = std::max(longest, legend[k].first->label.size());
    const double legend_width = legend.empty() ? 0.0 : 34.0 + 6.2 * static_cast<double>(longest);
    const double margin_left = 72.0, margin_right = 16.0 + (legend.empty() ? 0.0 : legend_width + 8.0);
    const double margin_top = 28.0, margin_bottom = 46.0;
    double plot_left = left + margin_left, plot_top = top + margin_top;
    double plot_width = width - margin_left - margin_right, plot_height = height - margin_top - margin_bottom;

    Axis ax, ay;
    ax.logarithmic = panel.log_x;
    ay.logarithmic = panel.log_y;
    double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
    for (const Series& s : panel.series) {
        for (std::size_t k = 0; k < std::min(s.x.size(), s.y.size()); ++k) {
            if (!ax.accepts(s.x[k]) || !ay.accepts(s.y[k])) continue;
            x_lo = std::min(x_lo, ax.transform(s.x[k]));
            x_hi = std::max(x_hi, ax.transform(s.x[k]));
            y_lo = std::min(y_lo, ay.transform(s.y[k]));
            y_hi = std::max(y_hi, ay.transform(s.y[k]));
        }
    }
    if (x_lo > x_hi) x_lo = x_hi = y_lo = y_hi = 0.0;
    ax.fit(x_lo, x_hi);
    ay.fit(y_lo, y_hi);
    if (panel.equal_aspect && !panel.log_x && !panel.log_y) {
        // Shrink the plot area along the axis with fewer data units per pixel.
        const double sx = (ax.high - ax.low) / plot_width, sy = (ay.high - ay.low) / plot_height;
        if (sx > sy) {
            const double h = (ay.high - ay.low) / sx;
            plot_top += 0.5 * (plot_height - h);
            plot_height = h;
        } else {
            const double w = (ax.high - ax.low) / sy;
            plot_left += 0.5 * (plot_width - w);
            plot_width = w;
        }
    }
    auto px = [&](double v) { return plot_left + ax.fraction(v) * plot_width; };
    auto py = [&](double v) { return plot_top + (1.0 - ay.fraction(v)) * plot_height; };

    out << "<g>\n";
    out << "<text x=\"" << number(left + width / 2) << "\" y=\"" << number(top + 18) << "\" text-anchor=\"middle\" "
        << "font-size=\"13\" font-weight=\"bold\">" << escape(panel.title) << "</text>\n";
    out << "<rect x=\"" << number(plot_left) << "\" y=\"" << number(plot_top) << "\" width=\"" << number(plot_width)
        << "\" height=\"" << number(plot_height) << "\" fill=\"none\" stroke=\"#000\"/>\n";
    // Labels are thinned where the plot area is too narrow for all of them.
    const std::size_t x_stride = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(ax.ticks.size() * 55.0 / plot_width)));
    const std::size_t y_stride = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(ay.ticks.size() * 18.0 / plot_height)));
    for (std::size_t k = 0; k < ax.ticks.size(); ++k) {
        const double t = ax.ticks[k], x = px(t);
        out << "<line x1=\"" << number(x) << "\" y1=\"" << number(plot_top) << "\" x2=\"" << number(x) << "\" y2=\""
            << number(plot_top + plot_height) << "\" stroke=\"#ddd\"/>\n";
        if (k % x_stride) continue;
        out << "<text x=\"" << number(x) << "\" y=\"" << number(plot_top + plot_height + 15) << "\" text-anchor=\"middle\" "
            << "font-size=\"11\">" << tick_label(t, ax.logarithmic) << "</text>\n";
    }
    for (std::size_t k = 0; k < ay.ticks.size(); ++k) {
        const double t = ay.ticks[k], y = py(t);
        out << "<line x1=\"" << number(plot_left) << "\" y1=\"" << number(y) << "\" x2=\"" << number(plot_left + plot_width)
            << "\" y2=\"" << number(y) << "\" stroke=\"#ddd\"/>\n";
        if (k % y_stride) continue;
        out << "<text x=\"" << number(plot_left - 5) << "\" y=\"" << number(y + 4) << "\" text-anchor=\"end\" "
            << "font-size=\"11\">" << tick_label(t, ay.logarithmic) << "</text>\n";
    }
    out << "<text x=\"" << number(plot_left + plot_width / 2) << "\" y=\"" << number(top + height - 8)
        << "\" text-anchor=\"middle\" font-size=\"12\">" << escape(panel.x_label) << "</text>\n";
    const double label_x = left + 14, label_y = plot_top + plot_height / 2;
    out << "<text x=\"" << number(label_x) << "\" y=\"" << number(label_y) << "\" text-anchor=\"middle\" font-size=\"12\" "
        << "transform=\"rotate(-90 " << number(label_x) << " " << number(label_y) << ")\">" << escape(panel.y_label)
        << "</text>\n";

    out << "<svg x=\"" << number(plot_left) << "\" y=\"" << number(plot_top) << "\" width=\"" << number(plot_width)
        << "\" height=\"" << number(plot_height) << "\" overflow=\"hidden\">\n<g transform=\"translate("
        << number(-plot_left) << "," << number(-plot_top) << ")\">\n";
    for (std::size_t index = 0; index < panel.series.size(); ++index) {
        const Series& s = panel.series[index];
        const std::string& colour = colours[index];
        const std::size_t n = std::min(s.x.size(), s.y.size());
        if (s.style != Series::Style::markers) {
            std::string path;
            bool pen_down = false;
            for (std::size_t k = 0; k < n; ++k) {
                if (!ax.accepts(s.x[k]) || !ay.accepts(s.y[k])) {
                    pen_down = false;
                    continue;
                }
                path += (pen_down ? " L" : " M") + number(px(s.x[k])) + "," + number(py(s.y[k]));
                pen_down = true;
            }
            if (!path.empty()) {
                out << "<path d=\"" << path << "\" fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"1.5\"/>\n";
            }
        }
        if (s.style != Series::Style::line) {
            for (std::size_t k = 0; k < n; ++k) {
                if (ax.accepts(s.x[k]) && ay.accepts(s.y[k])) draw_marker(out, s.marker, px(s.x[k]), py(s.y[k]), colour);
            }
        }
    }
    out << "</g>\n</svg>\n";
    if (!legend.empty()) {
        const double box_left = left + width - 16.0 - legend_width, entries = static_cast<double>(shown + (legend.size() > shown));
        out << "<rect x=\"" << number(box_left) << "\" y=\"" << number(plot_top) << "\" width=\"" << number(legend_width)
            << "\" height=\"" << number(15.0 * entries + 4) << "\" fill=\"#fff\" stroke=\"#ccc\"/>\n";
        double legend_y = plot_top + 14;
        for (std::size_t k = 0; k < shown; ++k) {
            const auto& [series, colour] = legend[k];
            const double x = box_left + 6;
            if (series->style == Series::Style::markers) {
                draw_marker(out, series->marker, x + 8, legend_y - 4, colour);
            } else {
                out << "<line x1=\"" << number(x) << "\" y1=\"" << number(legend_y - 4) << "\" x2=\"" << number(x + 18)
                    << "\" y2=\"" << number(legend_y - 4) << "\" stroke=\"" << colour << "\" stroke-width=\"2\"/>\n";
            }
            out << "<text x=\"" << number(x + 24) << "\" y=\"" << number(legend_y) << "\" font-size=\"11\">"
                << escape(series->label) << "</text>\n";
            legend_y += 15;
        }
        if (legend.size() > shown) {
            out << "<text x=\"" << number(box_left + 6) << "\" y=\"" << number(legend_y) << "\" font-size=\"11\">... and "
                << legend.size() - shown << " more</text>\n";
        }
    }
    out << "</g>\n";
}

}  // namespace

Series histogram_series(std::string label, const std::vector<double>& values, double lo, double hi, int bins, bool fractions) {
    std::vector<double> counts(static_cast<size_t>(bins), 0.0);
    const double width = (hi - lo) / bins;
    double total = 0;
    for (double v : values) {
        if (!std::isfinite(v) || v < lo || v > hi) continue;
        counts[static_cast<size_t>(std::min(bins - 1, static_cast<int>((v - lo) / width)))] += 1;
        total += 1;
    }
    Series series{std::move(label), {}, {}, Series::Style::line_and_markers, Series::Marker::circle, ""};
    for (int b = 0; b < bins; ++b) {
        series.x.push_back(lo + (b + 0.5) * width);
        series.y.push_back(fractions ? (total > 0 ? counts[b] / total : 0.0) : counts[b]);
    }
    return series;
}

std::string render_svg(const Figure& figure) {
    const int columns = std::max(1, figure.columns);
    const int rows = static_cast<int>((figure.panels.size() + columns - 1) / columns);
    const double title_height = figure.title.empty() ? 0.0 : 30.0;
    const double width = columns * figure.panel_width, height = title_height + std::max(rows, 1) * figure.panel_height;
    std::ostringstream out;
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << number(width) << "\" height=\""
        << number(height) << "\" viewBox=\"0 0 " << number(width) << " " << number(height)
        << "\" font-family=\"Helvetica, Arial, sans-serif\">\n"
        << "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
    if (!figure.title.empty()) {
        out << "<text x=\"" << number(width / 2) << "\" y=\"20\" text-anchor=\"middle\" font-size=\"15\" "
            << "font-weight=\"bold\">" << escape(figure.title) << "</text>\n";
    }
    std::size_t colour_index = 0;
    for (std::size_t p = 0; p < figure.panels.size(); ++p) {
        const double left = static_cast<double>(p % columns) * figure.panel_width;
        const double top = title_height + static_cast<double>(p / columns) * figure.panel_height;
        colour_index = 0;
        if (!figure.panels[p].heatmap.empty()) {
            render_heatmap(out, figure.panels[p], left, top, figure.panel_width, figure.panel_height);
        } else {
            render_panel(out, figure.panels[p], left, top, figure.panel_width, figure.panel_height, colour_index);
        }
    }
    out << "</svg>\n";
    return out.str();
}

void write_svg(const std::string& path, const Figure& figure) {
    std::ofstream out(path);
    if (!out) fail(Status::io, "cannot open '", path, "' for writing");
    out << render_svg(figure);
    if (!out) fail(Status::io, "cannot write '", path, "'");
}

}  // namespace atomfp::cli
