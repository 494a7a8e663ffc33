// peaknet-pusher: imitates lclstreamer ranks for tests and benchmarks. N ranks, each with its own
// PUSH socket (SNDHWM 5, LINGER 0 like the real streamer), connected to every endpoint (ZMQ then
// round-robins) or, with --distribute, rank r only to endpoint r % n. Messages come from files
// (sent in turn) or are synthesised (npz stored/deflate, HDF5 none/bitshuffle-lz4) with the
// batch_pattern.hpp test pattern, and producer_id (= rank) / producer_seq (the rank's event number)
// unless --no-sequence. Prints one JSON line with what was sent.
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "pusher/batch_pattern.hpp"
#include "pusher/hdf5_image_writer.hpp"
#include "pusher/npz_writer.hpp"

namespace {

using namespace peaknet::pusher;
using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<std::string> endpoints, files;
  std::string format = "npz-stored", dtype = "float32", end_file;
  std::vector<uint64_t> shape = {4, 1, 64, 80};
  int ranks = 1, sndhwm = 5, linger = 0;
  uint32_t rank_base = 0;  ///< pattern rank of the first socket (several pusher processes, distinct keys)
  uint64_t count = 10;     ///< messages per rank
  double rate = 0;         ///< messages/s per rank, 0 = as fast as possible
  bool distribute = false, reuse = false;
  bool sequence = true;  ///< producer_id / producer_seq arrays in synthesised messages
  double connect_wait_s = 0.2;
};

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<uint8_t> synthesise(const Options& o, uint32_t rank, uint64_t message) {
  const bool hdf5 = o.format.rfind("hdf5", 0) == 0;
  const auto arrays = pattern_batch(rank, message, o.shape, o.dtype, hdf5, o.sequence);
  if (o.format == "npz-stored") return make_npz(arrays, 0);
  if (o.format == "npz-deflate") return make_npz(arrays, 6);
  if (o.format == "hdf5-none") return make_hdf5_image(arrays, Hdf5Compression::kNone);
  if (o.format == "hdf5-bslz4") return make_hdf5_image(arrays, Hdf5Compression::kBitshuffleLz4);
  throw std::runtime_error("unknown --format " + o.format);
}

struct RankResult {
  uint64_t messages = 0, bytes = 0, events = 0, errors = 0;
  double blocked_s = 0;
};

void run_rank(zmq::context_t& context, const Options& o, uint32_t rank, const std::vector<std::vector<uint8_t>>& files,
              RankResult& result) {
  zmq::socket_t socket(context, zmq::socket_type::push);
  socket.set(zmq::sockopt::sndhwm, o.sndhwm);
  socket.set(zmq::sockopt::linger, o.linger);
  for (size_t i = 0; i < o.endpoints.size(); ++i) {
    if (!o.distribute || i == rank % o.endpoints.size()) socket.connect(o.endpoints[i]);
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.connect_wait_s));  // like lclstreamer's 1 s
  std::vector<uint8_t> reused;
  const uint32_t pattern_rank = o.rank_base + rank;
  if (files.empty() && o.reuse) {
    // One message sent again and again would repeat its producer_seq numbers, which ingestd would count
    // as events without a number of their own: the reused message carries no sequence.
    Options unnumbered = o;
    unnumbered.sequence = false;
    reused = synthesise(unnumbered, pattern_rank, 0);
  }
  const auto start = Clock::now();
  for (uint64_t m = 0; m < o.count; ++m) {
    if (o.rate > 0) std::this_thread::sleep_until(start + std::chrono::duration<double>(m / o.rate));
    std::vector<uint8_t> fresh;
    const std::vector<uint8_t>* bytes = &reused;
    if (!files.empty()) {
      bytes = &files[m % files.size()];
    } else if (!o.reuse) {
      fresh = synthesise(o, pattern_rank, m);
      bytes = &fresh;
    }
    const auto t0 = Clock::now();
    try {
      (void)socket.send(zmq::const_buffer(bytes->data(), bytes->size()), zmq::send_flags::none);
      ++result.messages;
      result.bytes += bytes->size();
      if (files.empty()) result.events += o.shape[0];
    } catch (const zmq::error_t& e) {  // like lclstreamer: log, drop, go on
      ++result.errors;
      std::cerr << "peaknet-pusher rank " << rank << ": send failed: " << e.what() << "\n";
    }
    result.blocked_s += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  if (!o.end_file.empty() && rank == static_cast<uint32_t>(o.ranks - 1)) {  // only the last rank, once
    const auto end = read_file(o.end_file);
    (void)socket.send(zmq::const_buffer(end.data(), end.size()), zmq::send_flags::none);
  }
  // LINGER 0 drops what is still queued on close, as the streamer does; wait for the peer first
  // when asked to (tests want every message delivered).
  if (o.linger != 0) socket.set(zmq::sockopt::linger, o.linger);
  socket.close();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"peaknet-pusher: imitate lclstreamer PUSH ranks"};
  Options o;
  app.add_option("-e,--endpoint", o.endpoints, "ZeroMQ endpoint to connect to (repeatable)")->required();
  app.add_option("-f,--file", o.files, "message files to send in turn (instead of synthesising)");
  app.add_option("--format", o.format, "synthesised format: npz-stored | npz-deflate | hdf5-none | hdf5-bslz4");
  app.add_option("--shape", o.shape, "batch shape B C H W")->expected(4);
  app.add_option("--dtype", o.dtype, "float32 | float64 | uint16 | int32");
  app.add_option("-n,--ranks", o.ranks, "number of PUSH sockets (MPI ranks)")->check(CLI::Range(1, 4095));
  app.add_option("--rank-base", o.rank_base, "pattern rank of the first socket (distinct keys per process)");
  app.add_option("-c,--count", o.count, "messages per rank");
  app.add_option("-r,--rate", o.rate, "messages per second per rank (0 = as fast as possible)");
  app.add_option("--sndhwm", o.sndhwm, "ZMQ_SNDHWM (lclstreamer: 5)");
  app.add_option("--linger", o.linger, "ZMQ_LINGER in ms at close (lclstreamer: 0; -1 = deliver everything)");
  app.add_flag("--distribute", o.distribute, "rank r connects only to endpoint r % n");
  app.add_flag("!--no-sequence", o.sequence,
               "leave out producer_id / producer_seq (the sequence numbers ingestd counts gaps from)");
  app.add_flag("--reuse", o.reuse,
               "synthesise one message per rank and send it repeatedly (benchmarks; without producer_seq)");
  app.add_option("--end-file", o.end_file, "a message (e.g. a Simplon stop) the last rank sends at the end");
  app.add_option("--connect-wait", o.connect_wait_s, "seconds to wait after connecting");
  CLI11_PARSE(app, argc, argv);
  try {
    std::vector<std::vector<uint8_t>> files;
    for (const auto& f : o.files) files.push_back(read_file(f));
    zmq::context_t context(1);
    std::vector<RankResult> results(o.ranks);
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    for (int r = 0; r < o.ranks; ++r) {
      threads.emplace_back([&, r] { run_rank(context, o, static_cast<uint32_t>(r), files, results[r]); });
    }
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    nlohmann::json report = {{"ranks", o.ranks}, {"seconds", seconds}, {"format", files.empty() ? o.format : "files"}};
    uint64_t messages = 0, bytes = 0, events = 0, errors = 0;
    nlohmann::json per_rank = nlohmann::json::array();
    for (const auto& r : results) {
      messages += r.messages;
      bytes += r.bytes;
      events += r.events;
      errors += r.errors;
      per_rank.push_back({{"messages", r.messages}, {"bytes", r.bytes}, {"blocked_s", r.blocked_s}});
    }
    report.update({{"messages", messages},
                   {"bytes", bytes},
                   {"events", events},
                   {"errors", errors},
                   {"gb_per_s", seconds > 0 ? bytes / seconds / 1e9 : 0.0},
                   {"per_rank", per_rank}});
    std::cout << report.dump() << std::endl;
    return errors ? 2 : 0;
  } catch (const std::exception& e) {
    std::cerr << "peaknet-pusher: " << e.what() << "\n";
    return 1;
  }
}
