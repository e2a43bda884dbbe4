// The training program of a network (what `gradc compile --main` appends and `gradc train` runs):
// data loading (CSV; IDX, gzip-compressed or not, read through zlib), shuffled mini-batches, a
// progress bar when standard error is a terminal, one line (or JSON object) per epoch, test
// accuracy, --save. Assumes <zlib.h> is included and Model has the interface gradc emits.
// Bad data is reported as `FILE:LINE: error: ...` (or `FILE: error: ...`) and exit status 1.
#ifndef GRADC_NET_TRAIN
#define GRADC_NET_TRAIN

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unistd.h>
#include <vector>

namespace gradc_rt {

struct DataSource {
    std::string format; // "csv" or "idx"; empty: none
    std::vector<std::string> paths;
};

struct TrainSettings {
    const char* network = "";
    int epochs = 1;
    int batch = 0; // 0: the whole data set
    unsigned long long seed = 0;
    double stop_below = -1; // stop when an epoch's loss is below this (if >= 0)
    DataSource train, test;
};

class DataError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Samples: x (count x input_size) and targets (count x target_size), row-major.
template <class T> struct DataSet {
    std::vector<T> x, y;
    int count = 0;
};

struct Shape {
    int input_size, target_size, classes;
};

// CSV: per row the input columns, then the target columns (a class label is one column).
// Separators: commas, blanks. A first row that is not all numbers is a header.
template <class T> DataSet<T> read_csv(const std::string& path, Shape shape) {
    std::ifstream file(path);
    if (!file) throw DataError(path + ": cannot open file");
    DataSet<T> data;
    const int columns = shape.input_size + shape.target_size;
    std::string line;
    std::vector<double> row;
    for (int number = 1; std::getline(file, line); ++number) {
        for (char& c : line)
            if (c == ',' || c == ';' || c == '\t' || c == '\r') c = ' ';
        row.clear();
        std::istringstream fields(line);
        std::string field;
        bool numeric = true;
        while (fields >> field) {
            char* end = nullptr;
            const double value = std::strtod(field.c_str(), &end);
            if (*end != '\0') {
                if (number == 1) {
                    numeric = false;
                    break;
                }
                throw DataError(path + ":" + std::to_string(number) + ": `" + field +
                                "` is not a number");
            }
            row.push_back(value);
        }
        if (!numeric || (row.empty() && line.find_first_not_of(' ') == std::string::npos)) continue;
        if (static_cast<int>(row.size()) != columns)
            throw DataError(path + ":" + std::to_string(number) + ": expected " +
                            std::to_string(columns) + " columns (" +
                            std::to_string(shape.input_size) + " inputs, " +
                            std::to_string(shape.target_size) + " targets), found " +
                            std::to_string(row.size()));
        if (shape.classes) {
            const double label = row.back();
            if (label != std::floor(label) || label < 0 || label >= shape.classes) {
                std::ostringstream message;
                message << path << ":" << number << ": label " << label << " is not a class in 0.."
                        << shape.classes - 1;
                throw DataError(message.str());
            }
        }
        for (int i = 0; i < shape.input_size; ++i)
            data.x.push_back(T(row[i]));
        for (int i = shape.input_size; i < columns; ++i)
            data.y.push_back(T(row[i]));
        ++data.count;
    }
    if (data.count == 0) throw DataError(path + ": no data rows");
    return data;
}

class GzFile {
  public:
    explicit GzFile(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
        if (!file_) throw DataError(path + ": cannot open file");
    }
    ~GzFile() { gzclose(file_); }
    GzFile(const GzFile&) = delete;
    GzFile& operator=(const GzFile&) = delete;
    void read(void* buffer, unsigned size) {
        if (gzread(file_, buffer, size) != static_cast<int>(size))
            throw DataError(path_ + ": truncated or unreadable (not a valid IDX file?)");
    }
    unsigned read_u32() {
        unsigned char b[4];
        read(b, 4);
        return (unsigned(b[0]) << 24) | (unsigned(b[1]) << 16) | (unsigned(b[2]) << 8) | b[3];
    }

  private:
    std::string path_;
    gzFile file_;
};

// IDX (the MNIST layout): unsigned bytes, images scaled to [0, 1], labels as classes.
template <class T>
DataSet<T> read_idx(const std::string& images, const std::string& labels, Shape shape) {
    GzFile image_file(images);
    const unsigned magic = image_file.read_u32();
    if ((magic >> 8) != 0x08 || (magic & 0xff) < 1 || (magic & 0xff) > 4)
        throw DataError(images + ": not an IDX file of unsigned bytes");
    const unsigned count = image_file.read_u32();
    unsigned pixels = 1;
    for (unsigned d = 1; d < (magic & 0xff); ++d)
        pixels *= image_file.read_u32();
    if (static_cast<int>(pixels) != shape.input_size)
        throw DataError(images + ": samples of " + std::to_string(pixels) +
                        " values, but the network's input has " + std::to_string(shape.input_size));
    GzFile label_file(labels);
    if (label_file.read_u32() != 0x00000801)
        throw DataError(labels + ": not an IDX file of labels (unsigned bytes, one dimension)");
    if (label_file.read_u32() != count)
        throw DataError(labels + ": the label count differs from the image count in " + images);
    if (shape.target_size != 1 || !shape.classes)
        throw DataError(labels + ": IDX labels need a `target NAME : class(N)`");
    DataSet<T> data;
    data.count = static_cast<int>(count);
    std::vector<unsigned char> bytes(static_cast<std::size_t>(count) * pixels);
    image_file.read(bytes.data(), static_cast<unsigned>(bytes.size()));
    data.x.resize(bytes.size());
    for (std::size_t i = 0; i < bytes.size(); ++i)
        data.x[i] = T(bytes[i]) / T(255);
    bytes.resize(count);
    label_file.read(bytes.data(), count);
    for (unsigned i = 0; i < count; ++i) {
        if (bytes[i] >= shape.classes)
            throw DataError(labels + ": label " + std::to_string(bytes[i]) + " of sample " +
                            std::to_string(i) + " is not a class in 0.." +
                            std::to_string(shape.classes - 1));
        data.y.push_back(T(bytes[i]));
    }
    return data;
}

inline std::string resolve(const std::string& base, const std::string& path) {
    if (base.empty() || path.empty() || path[0] == '/') return path;
    return base + "/" + path;
}

template <class T>
DataSet<T> read_data(const DataSource& source, const std::string& base, Shape shape) {
    if (source.format == "csv") return read_csv<T>(resolve(base, source.paths.at(0)), shape);
    return read_idx<T>(resolve(base, source.paths.at(0)), resolve(base, source.paths.at(1)), shape);
}

// A one-line bar on standard error, redrawn at most ten times a second.
class Progress {
  public:
    Progress() : enabled_(isatty(2) != 0) {}
    void show(int epoch, int done, int total, double loss) {
        if (!enabled_) return;
        const auto now = std::chrono::steady_clock::now();
        if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        const int width = 30,
                  filled = static_cast<int>(static_cast<long long>(width) * done / total);
        std::fprintf(stderr, "\repoch %d [%s%s] %d/%d loss %.6g ", epoch,
                     std::string(static_cast<std::size_t>(filled), '=').c_str(),
                     std::string(static_cast<std::size_t>(width - filled), ' ').c_str(), done,
                     total, loss);
        std::fflush(stderr);
    }
    void clear() {
        if (enabled_) std::fprintf(stderr, "\r%80s\r", "");
    }

  private:
    bool enabled_;
    std::chrono::steady_clock::time_point last_{};
};

template <class Model> int train_main(int argc, char** argv, TrainSettings settings) {
    using T = typename std::remove_reference<decltype(*Model().parameters())>::type;
    std::string base, save, data;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--epochs" && has_value)
            settings.epochs = std::atoi(argv[++i]);
        else if (arg == "--data" && has_value)
            data = argv[++i];
        else if (arg == "--data-dir" && has_value)
            base = argv[++i];
        else if (arg == "--save" && has_value)
            save = argv[++i];
        else if (arg == "--json")
            json = true;
        else {
            std::fprintf(stderr,
                         "usage: %s [--epochs N] [--data FILE|IMAGES,LABELS] [--data-dir DIR] "
                         "[--json] [--save FILE]\n",
                         argv[0]);
            return 2;
        }
    }
    if (!data.empty()) { // --data replaces the train_data files
        settings.train.paths.clear();
        std::stringstream list(data);
        for (std::string path; std::getline(list, path, ',');)
            settings.train.paths.push_back(path);
        if (settings.train.format.empty()) settings.train.format = "csv";
        if (settings.train.paths.size() != (settings.train.format == "idx" ? 2u : 1u)) {
            std::fprintf(stderr, "error: --data needs %s\n",
                         settings.train.format == "idx" ? "IMAGES,LABELS" : "one CSV file");
            return 2;
        }
    }
    if (settings.train.format.empty()) {
        std::fprintf(stderr, "error: %s has no train_data and no --data was given\n",
                     settings.network);
        return 1;
    }
    const Shape shape = {Model::input_size, Model::target_size, Model::num_classes};
    try {
        const DataSet<T> train = read_data<T>(settings.train, base, shape);
        DataSet<T> test;
        if (!settings.test.format.empty()) test = read_data<T>(settings.test, base, shape);
        Model model;
        const int batch = settings.batch > 0 ? std::min(settings.batch, train.count) : train.count;
        std::vector<int> order(static_cast<std::size_t>(train.count));
        for (int i = 0; i < train.count; ++i)
            order[static_cast<std::size_t>(i)] = i;
        Random random(settings.seed ^ 0x5f1e5ull);
        std::vector<T> x(static_cast<std::size_t>(batch) * Model::input_size);
        std::vector<T> y(static_cast<std::size_t>(batch) * Model::target_size);
        Progress progress;
        for (int epoch = 1; epoch <= settings.epochs; ++epoch) {
            if (batch < train.count)
                for (int i = train.count - 1; i > 0; --i)
                    std::swap(order[static_cast<std::size_t>(i)],
                              order[random.below(static_cast<unsigned long long>(i) + 1)]);
            const auto start = std::chrono::steady_clock::now();
            double loss_sum = 0;
            long correct = 0;
            int batches = 0;
            for (int first = 0; first < train.count; first += batch) {
                const int n = std::min(batch, train.count - first);
                const T* bx = train.x.data();
                const T* by = train.y.data();
                if (batch < train.count) { // gather the shuffled samples
                    for (int k = 0; k < n; ++k) {
                        const std::size_t i =
                            static_cast<std::size_t>(order[static_cast<std::size_t>(first + k)]);
                        std::copy_n(&train.x[i * Model::input_size], Model::input_size,
                                    &x[static_cast<std::size_t>(k) * Model::input_size]);
                        std::copy_n(&train.y[i * Model::target_size], Model::target_size,
                                    &y[static_cast<std::size_t>(k) * Model::target_size]);
                    }
                    bx = x.data();
                    by = y.data();
                }
                loss_sum += static_cast<double>(model.train_batch(bx, by, n));
                correct += model.correct();
                ++batches;
                progress.show(epoch, first + n, train.count, loss_sum / batches);
            }
            progress.clear();
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const double loss = loss_sum / batches;
            const double accuracy = static_cast<double>(correct) / train.count;
            const double speed = train.count / std::max(seconds, 1e-9);
            if (json) {
                std::printf("{\"epoch\": %d, \"loss\": %.9g", epoch, loss);
                if (Model::num_classes) std::printf(", \"accuracy\": %.9g", accuracy);
                std::printf(", \"samples_per_s\": %.6g}\n", speed);
            } else {
                std::printf("epoch %d/%d  loss %.6g", epoch, settings.epochs, loss);
                if (Model::num_classes) std::printf("  accuracy %.2f%%", 100 * accuracy);
                std::printf("  %.3g samples/s\n", speed);
            }
            std::fflush(stdout);
            if (settings.stop_below >= 0 && loss < settings.stop_below) {
                if (!json) std::printf("stopped: loss < %g\n", settings.stop_below);
                break;
            }
        }
        if (test.count) {
            const double test_loss =
                static_cast<double>(model.evaluate(test.x.data(), test.y.data(), test.count));
            const double accuracy = static_cast<double>(model.correct()) / test.count;
            if (json) {
                std::printf("{\"test_loss\": %.9g", test_loss);
                if (Model::num_classes) std::printf(", \"test_accuracy\": %.9g", accuracy);
                std::printf("}\n");
            } else {
                std::printf("test  loss %.6g", test_loss);
                if (Model::num_classes) std::printf("  accuracy %.2f%%", 100 * accuracy);
                std::printf("  (%d samples)\n", test.count);
            }
        }
        if (!save.empty() && !model.save(save))
            throw DataError(save + ": cannot write the weights");
    } catch (const DataError& error) { // "FILE[:LINE]: TEXT" → "FILE[:LINE]: error: TEXT"
        std::string message = error.what();
        const std::size_t text = message.find(": ");
        message.insert(text == std::string::npos ? 0 : text + 2, "error: ");
        std::fprintf(stderr, "%s\n", message.c_str());
        return 1;
    }
    return 0;
}

} // namespace gradc_rt
#endif
