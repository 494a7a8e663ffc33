// WorkPool (every item once, exceptions rethrown, reusable) and frames deflated on it: what HDF5 reads
// back equals the frames, at every level and thread count, and the dataset declares the deflate filter.
#include <atomic>
#include <stdexcept>

#include <gtest/gtest.h>

#include "writerd/cxi_file.hpp"
#include "writerd/work_pool.hpp"
#include "writerd_test_support.hpp"

namespace peaknet::writerd {
namespace {

using testing::read_dataset;
using testing::TestSandbox;

TEST(WriterdWorkPool, RunsEveryItemExactlyOnceAcrossRuns) {
  for (unsigned workers : {0u, 1u, 3u}) {
    WorkPool sut(workers);
    EXPECT_EQ(sut.concurrency(), workers + 1);
    for (size_t n : {size_t(0), size_t(1), size_t(7), size_t(200)}) {
      std::vector<std::atomic<int>> hits(n);
      sut.run(n, [&](size_t i) { hits[i].fetch_add(1); });
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "item " << i << " of " << n;
    }
  }
}

TEST(WriterdWorkPool, RethrowsTheFirstErrorAfterAllItemsRan) {
  WorkPool sut(2);
  std::atomic<int> ran{0};
  EXPECT_THROW(sut.run(10,
                       [&](size_t i) {
                         ran.fetch_add(1);
                         if (i == 3) throw std::runtime_error("item 3 failed");
                       }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 10);
  std::atomic<int> again{0};
  sut.run(5, [&](size_t) { again.fetch_add(1); });  // still usable
  EXPECT_EQ(again.load(), 5);
}

TEST(WriterdWorkPool, FramesDeflatedInParallelReadBackEqualThroughHdf5) {
  TestSandbox box;
  constexpr int64_t kH = 33, kW = 47;
  std::vector<CxiRow> rows(9);
  for (size_t r = 0; r < rows.size(); ++r) {
    rows[r].event_id = r;
    rows[r].frame.resize(size_t(kH * kW));
    for (size_t i = 0; i < rows[r].frame.size(); ++i) rows[r].frame[i] = float((i * 7 + r * 13) % 11) * 0.25f;
  }
  for (int level : {0, 1, 6}) {
    for (unsigned workers : {0u, 2u}) {
      WorkPool pool(workers);
      CxiLayout layout;
      layout.frames = true;
      layout.slab_height = kH;
      layout.slab_width = kW;
      layout.compression_level = level;
      layout.pool = &pool;
      const std::string path =
          (box.dir() / ("f" + std::to_string(level) + "_" + std::to_string(workers) + ".cxi")).string();
      {
        CxiFile sut(path, layout);
        sut.append({&rows[0], &rows[1], &rows[2], &rows[3]});
        sut.append({&rows[4]});
        sut.append({&rows[5], &rows[6], &rows[7], &rows[8]});
        sut.close();
      }
      std::vector<hsize_t> dims;
      const auto data = read_dataset<float>(path, "/entry_1/data_1/data", H5T_NATIVE_FLOAT, &dims);
      ASSERT_EQ(dims, (std::vector<hsize_t>{9, hsize_t(kH), hsize_t(kW)}));
      size_t mismatches = 0;
      for (size_t r = 0; r < rows.size(); ++r) {
        for (size_t i = 0; i < rows[r].frame.size(); ++i) mismatches += data[r * kH * kW + i] != rows[r].frame[i];
      }
      EXPECT_EQ(mismatches, 0u) << "level " << level << ", " << workers << " workers";
      // The filter is declared, so any HDF5 reader inflates the chunks written directly.
      const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
      const hid_t d = H5Dopen2(f, "/entry_1/data_1/data", H5P_DEFAULT);
      const hid_t dcpl = H5Dget_create_plist(d);
      EXPECT_EQ(H5Pget_nfilters(dcpl), level > 0 ? 1 : 0);
      if (level > 0) {
        unsigned flags = 0, values[1] = {0};
        size_t n_values = 1;
        EXPECT_EQ(H5Pget_filter2(dcpl, 0, &flags, &n_values, values, 0, nullptr, nullptr), H5Z_FILTER_DEFLATE);
        // Compressed on disk: the frames repeat a short pattern.
        EXPECT_LT(H5Dget_storage_size(d), hsize_t(9 * kH * kW * 4) / 2);
      }
      H5Pclose(dcpl);
      H5Dclose(d);
      H5Fclose(f);
    }
  }
}

}  // namespace
}  // namespace peaknet::writerd
