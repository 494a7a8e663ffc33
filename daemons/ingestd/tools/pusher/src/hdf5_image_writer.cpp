#include "pusher/hdf5_image_writer.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include <hdf5.h>
#include <lz4.h>

namespace peaknet::pusher {
namespace {

constexpr H5Z_filter_t kBitshuffleFilter = 32008;

/// Owns one HDF5 id; closes it with the matching H5*close.
class H5Id {
 public:
  H5Id(hid_t id, herr_t (*close)(hid_t), const std::string& what) : id_(id), close_(close) {
    if (id_ < 0) throw std::runtime_error("hdf5 image: " + what + " failed");
  }
  ~H5Id() {
    if (id_ >= 0) close_(id_);
  }
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  hid_t get() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

hid_t h5_type(const std::string& descr) {
  if (descr == "<f4") return H5T_IEEE_F32LE;
  if (descr == "<f8") return H5T_IEEE_F64LE;
  if (descr == "<u2") return H5T_STD_U16LE;
  if (descr == "<i4") return H5T_STD_I32LE;
  if (descr == "<u8") return H5T_STD_U64LE;
  if (descr == "<i8") return H5T_STD_I64LE;
  throw std::runtime_error("hdf5 image: unsupported descr " + descr);
}

/// We write filter-32008 chunks ourselves; libhdf5 only has to accept the filter in the pipeline.
size_t refuse_filter(unsigned, size_t, const unsigned[], size_t, size_t*, void**) { return 0; }

void register_bitshuffle_placeholder() {
  static const bool registered = [] {
    if (H5Zfilter_avail(kBitshuffleFilter) > 0) return true;
    H5Z_class2_t cls{};
    cls.version = H5Z_CLASS_T_VERS;
    cls.id = kBitshuffleFilter;
    cls.encoder_present = 1;
    cls.decoder_present = 1;
    cls.name = "bitshuffle (pusher placeholder; chunks written directly)";
    cls.filter = refuse_filter;
    return H5Zregister(&cls) >= 0;
  }();
  if (!registered) throw std::runtime_error("hdf5 image: cannot register filter 32008");
}

void put_be(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

/// Bit transpose of `n` elements (n % 8 == 0): bit j of byte b of element i goes to bit i%8 of byte
/// (b*8 + j) * n/8 + i/8 (bitshuffle's layout).
void bitshuffle_block(const uint8_t* in, uint8_t* out, size_t n, size_t elem_size) {
  const size_t row = n / 8;
  std::memset(out, 0, n * elem_size);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* element = in + i * elem_size;
    for (size_t b = 0; b < elem_size; ++b) {
      const uint8_t byte = element[b];
      if (!byte) continue;
      for (int j = 0; j < 8; ++j) {
        if (byte & (1u << j)) out[(b * 8 + j) * row + i / 8] |= static_cast<uint8_t>(1u << (i % 8));
      }
    }
  }
}

}  // namespace

std::vector<uint8_t> bitshuffle_lz4_encode(const uint8_t* data, size_t bytes, size_t elem_size, size_t block_elems) {
  if (block_elems == 0) block_elems = std::max<size_t>(128, (8192 / elem_size) / 8 * 8);
  const size_t count = bytes / elem_size;
  std::vector<uint8_t> out;
  put_be(out, bytes, 8);
  put_be(out, block_elems * elem_size, 4);
  std::vector<uint8_t> shuffled(block_elems * elem_size);
  std::vector<char> compressed(LZ4_compressBound(static_cast<int>(block_elems * elem_size)));
  size_t done = 0;
  auto emit_block = [&](size_t n) {
    bitshuffle_block(data + done * elem_size, shuffled.data(), n, elem_size);
    const int size = LZ4_compress_default(reinterpret_cast<const char*>(shuffled.data()), compressed.data(),
                                          static_cast<int>(n * elem_size), static_cast<int>(compressed.size()));
    if (size <= 0) throw std::runtime_error("bitshuffle-lz4: LZ4 compression failed");
    put_be(out, static_cast<uint64_t>(size), 4);
    out.insert(out.end(), compressed.begin(), compressed.begin() + size);
    done += n;
  };
  while (count - done >= block_elems) emit_block(block_elems);
  const size_t last = (count - done) / 8 * 8;
  if (last) emit_block(last);
  // Fewer than 8 trailing elements are stored as they are.
  out.insert(out.end(), data + done * elem_size, data + bytes);
  return out;
}

std::vector<uint8_t> make_hdf5_image(const std::vector<NpyArray>& arrays, Hdf5Compression compression,
                                     Hdf5Layout layout) {
  if (compression == Hdf5Compression::kBitshuffleLz4 && layout != Hdf5Layout::kEventChunks) {
    throw std::runtime_error("hdf5 image: bitshuffle-lz4 chunks are written for event chunks only");
  }
  if (compression != Hdf5Compression::kNone && layout == Hdf5Layout::kContiguous) {
    throw std::runtime_error("hdf5 image: a contiguous dataset cannot be compressed");
  }
  if (compression == Hdf5Compression::kBitshuffleLz4) register_bitshuffle_placeholder();
  H5Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "H5Pcreate(fapl)");
  if (H5Pset_fapl_core(fapl.get(), 1 << 20, /*backing_store=*/0) < 0)
    throw std::runtime_error("hdf5 image: core driver");
  // Unique names: libhdf5 refuses a second open of the same in-memory file name.
  static std::atomic<uint64_t> serial{0};
  const std::string name = "pusher-message-" + std::to_string(serial.fetch_add(1)) + ".h5";
  H5Id file(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose, "H5Fcreate(core)");
  H5Id lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "H5Pcreate(lcpl)");
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  for (const auto& array : arrays) {
    const size_t rank = array.shape.size();
    if (rank == 0 || array.bytes.size() != array.count() * array.elem_size()) {
      throw std::runtime_error("hdf5 image: dataset " + array.name + " has inconsistent shape/bytes");
    }
    std::vector<hsize_t> dims(array.shape.begin(), array.shape.end());
    std::vector<hsize_t> chunk = dims;
    chunk[0] = 1;
    if (layout == Hdf5Layout::kTileChunks && rank >= 3) {
      chunk[0] = std::min<hsize_t>(2, dims[0]);
      for (size_t d = 1; d + 2 < rank; ++d) chunk[d] = 1;
      chunk[rank - 2] = (dims[rank - 2] + 2) / 3;
      chunk[rank - 1] = (dims[rank - 1] + 1) / 2;
    }
    for (auto& c : chunk) c = std::max<hsize_t>(c, 1);
    H5Id space(H5Screate_simple(static_cast<int>(rank), dims.data(), nullptr), H5Sclose, "H5Screate " + array.name);
    H5Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "H5Pcreate(dcpl)");
    if (layout != Hdf5Layout::kContiguous) H5Pset_chunk(dcpl.get(), static_cast<int>(rank), chunk.data());
    if (compression == Hdf5Compression::kGzip && H5Pset_deflate(dcpl.get(), 1) < 0) {
      throw std::runtime_error("hdf5 image: H5Pset_deflate for " + array.name);
    }
    const size_t elem = array.elem_size();
    if (compression == Hdf5Compression::kBitshuffleLz4) {
      const unsigned cd_values[5] = {0, 4, static_cast<unsigned>(elem), 0, 2};
      if (H5Pset_filter(dcpl.get(), kBitshuffleFilter, H5Z_FLAG_OPTIONAL, 5, cd_values) < 0) {
        throw std::runtime_error("hdf5 image: H5Pset_filter(32008) for " + array.name);
      }
    }
    H5Id dset(H5Dcreate2(file.get(), array.name.c_str(), h5_type(array.descr), space.get(), lcpl.get(), dcpl.get(),
                         H5P_DEFAULT),
              H5Dclose, "H5Dcreate " + array.name);
    if (compression != Hdf5Compression::kBitshuffleLz4) {
      if (H5Dwrite(dset.get(), h5_type(array.descr), H5S_ALL, H5S_ALL, H5P_DEFAULT, array.bytes.data()) < 0) {
        throw std::runtime_error("hdf5 image: H5Dwrite " + array.name);
      }
      continue;
    }
    const size_t chunk_bytes = array.bytes.size() / dims[0];
    std::vector<hsize_t> offset(rank, 0);
    for (hsize_t i = 0; i < dims[0]; ++i) {
      offset[0] = i;
      const auto encoded = bitshuffle_lz4_encode(array.bytes.data() + i * chunk_bytes, chunk_bytes, elem);
      if (H5Dwrite_chunk(dset.get(), H5P_DEFAULT, 0, offset.data(), encoded.size(), encoded.data()) < 0) {
        throw std::runtime_error("hdf5 image: H5Dwrite_chunk " + array.name + " chunk " + std::to_string(i));
      }
    }
  }
  if (H5Fflush(file.get(), H5F_SCOPE_LOCAL) < 0) throw std::runtime_error("hdf5 image: H5Fflush");
  const ssize_t size = H5Fget_file_image(file.get(), nullptr, 0);
  if (size <= 0) throw std::runtime_error("hdf5 image: H5Fget_file_image size");
  std::vector<uint8_t> image(static_cast<size_t>(size));
  if (H5Fget_file_image(file.get(), image.data(), image.size()) != size) {
    throw std::runtime_error("hdf5 image: H5Fget_file_image");
  }
  return image;
}

}  // namespace peaknet::pusher
