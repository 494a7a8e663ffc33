// White-box: the HDF5 catalog (read under libhdf5's lock) locates every dataset's values inside the
// message for every layout, so no values are read by libhdf5 under the lock; the decoder then
// copies / decompresses them outside it. Whole reads are left for layouts that do not fit.
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "hdf5_catalog.hpp"
#include "ingest/decode/hdf5_lock_stats.hpp"
#include "pusher/batch_pattern.hpp"
#include "pusher/hdf5_image_writer.hpp"

namespace peaknet::ingest {
namespace {

using pusher::Hdf5Compression;
using pusher::Hdf5Layout;

Hdf5Catalog catalog_of(const std::vector<uint8_t>& image) {
  return read_hdf5_catalog({reinterpret_cast<const std::byte*>(image.data()), image.size()}, uint64_t(1) << 30);
}

const Hdf5Dataset& detector(const Hdf5Catalog& catalog) {
  const Hdf5Dataset* d = catalog.find("/data/data");
  if (!d) throw std::runtime_error("no /data/data");
  return *d;
}

TEST(Hdf5CatalogLayout, TileChunksAreListedInGridOrderNotReadWhole) {
  for (auto compression : {Hdf5Compression::kNone, Hdf5Compression::kGzip}) {
    const auto image = pusher::make_hdf5_image(pusher::pattern_batch(1, 2, {5, 2, 25, 41}, "float32", true),
                                               compression, Hdf5Layout::kTileChunks);
    const auto catalog = catalog_of(image);
    const auto& d = detector(catalog);
    EXPECT_EQ(d.chunk_shape, (std::vector<uint64_t>{2, 1, 9, 21}));
    EXPECT_EQ(d.chunk_grid(), (std::vector<uint64_t>{3, 2, 3, 2}));
    ASSERT_TRUE(d.has_chunks);
    EXPECT_FALSE(d.has_whole) << "values read by libhdf5 under the lock";
    ASSERT_EQ(d.chunks.size(), 36u);
    EXPECT_EQ(d.chunks[0].leading_index, 0u);
    EXPECT_EQ(d.chunks[12].leading_index, 2u);  // grid row 1 starts at element 2 of dimension 0
    for (const auto& c : d.chunks) {
      EXPECT_GE(c.raw.data(), reinterpret_cast<const std::byte*>(image.data()));
      EXPECT_LE(c.raw.data() + c.raw.size(), reinterpret_cast<const std::byte*>(image.data() + image.size()));
      if (compression == Hdf5Compression::kNone) {
        EXPECT_EQ(c.raw.size(), d.chunk_bytes());
      }
    }
  }
}

TEST(Hdf5CatalogLayout, EventChunksAndContiguousDataPointIntoTheMessage) {
  const auto batch = pusher::pattern_batch(1, 2, {3, 1, 16, 8}, "uint16", true);
  const auto chunked = catalog_of(pusher::make_hdf5_image(batch, Hdf5Compression::kNone));
  EXPECT_TRUE(detector(chunked).has_chunks);
  EXPECT_EQ(detector(chunked).chunks.size(), 3u);
  EXPECT_FALSE(detector(chunked).has_whole);
  const auto image = pusher::make_hdf5_image(batch, Hdf5Compression::kNone, Hdf5Layout::kContiguous);
  const auto contiguous = catalog_of(image);
  const auto& d = detector(contiguous);
  ASSERT_TRUE(d.has_contiguous);
  EXPECT_FALSE(d.has_whole);
  ASSERT_EQ(d.contiguous.size(), 3u * 16 * 8 * 2);
  EXPECT_EQ(std::memcmp(d.contiguous.data(), batch[1].bytes.data(), d.contiguous.size()), 0) << batch[1].name;
}

TEST(Hdf5CatalogLayout, EachCatalogTakesTheLockOnceAndIsTimed) {
  const auto image =
      pusher::make_hdf5_image(pusher::pattern_batch(1, 2, {2, 1, 8, 8}, "float32", true), Hdf5Compression::kNone);
  const auto before = hdf5_lock_stats();
  (void)catalog_of(image);
  (void)catalog_of(image);
  const auto after = hdf5_lock_stats();
  EXPECT_EQ(after.acquisitions - before.acquisitions, 2u);
  EXPECT_GT(after.held_ns, before.held_ns);
}

}  // namespace
}  // namespace peaknet::ingest
