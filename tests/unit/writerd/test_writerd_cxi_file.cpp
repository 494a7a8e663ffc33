// CxiFile: datasets, dtypes, fill -1 beyond nPeaks, several appends, frames, event ids read back.
#include <cmath>

#include <gtest/gtest.h>

#include "writerd/cxi_file.hpp"
#include "writerd_test_support.hpp"

namespace peaknet::writerd {
namespace {

using testing::read_dataset;
using testing::TestSandbox;

CxiRow make_row(uint64_t id, int n, float base) {
  CxiRow r;
  r.event_id = id;
  r.ingest_epoch = 0xabcdef0000000000ULL + id;
  r.timestamp = double(id) / 10;
  r.timestamp_raw = (uint64_t{1700000000} << 32) | (999999000 + id);  // low bits a double drops
  r.n_found = n + 1;
  r.photon_energy_ev = 9000.5f;
  for (int i = 0; i < n; ++i) {
    r.fs.push_back(base + i);
    r.ss.push_back(base + 2 * i);
    r.seg.push_back(0);
    r.intensity.push_back(-5.0f * i);  // negative intensities are legal; nPeaks marks the end
  }
  r.frame.assign(6, float(id));
  return r;
}

TEST(WriterdCxiFile, WritesRowsWithFillAndReadsIdsBack) {
  TestSandbox box;
  const std::string path = (box.dir() / "a.cxi").string();
  CxiLayout layout;
  layout.max_num_peak = 8;
  layout.frames = true;
  layout.slab_height = 2;
  layout.slab_width = 3;
  {
    CxiFile sut(path, layout);
    const CxiRow r0 = make_row(7, 3, 1.5f), r1 = make_row(9, 0, 0), r2 = make_row(11, 8, 4.0f);
    sut.append({&r0, &r1});
    sut.append({&r2});
    EXPECT_EQ(sut.rows(), 3u);
    sut.close();
  }
  std::vector<hsize_t> dims;
  const auto x = read_dataset<float>(path, "/entry_1/result_1/peakXPosRaw", H5T_NATIVE_FLOAT, &dims);
  ASSERT_EQ(dims, (std::vector<hsize_t>{3, 8}));
  EXPECT_EQ(x[0], 1.5f);
  EXPECT_EQ(x[2], 3.5f);
  EXPECT_EQ(x[3], -1.0f);
  EXPECT_EQ(x[8], -1.0f);   // row 1: no peaks
  EXPECT_EQ(x[23], 11.0f);  // row 2: full row
  const auto intensity = read_dataset<float>(path, "/entry_1/result_1/peakTotalIntensity", H5T_NATIVE_FLOAT);
  EXPECT_EQ(intensity[1], -5.0f);
  EXPECT_EQ(intensity[3], -1.0f);
  EXPECT_EQ(read_dataset<int32_t>(path, "/entry_1/result_1/nPeaks", H5T_NATIVE_INT32), (std::vector<int32_t>{3, 0, 8}));
  EXPECT_EQ(read_dataset<float>(path, "/LCLS/photon_energy_eV", H5T_NATIVE_FLOAT)[2], 9000.5f);
  EXPECT_EQ(read_dataset<double>(path, "/LCLS/timestamp", H5T_NATIVE_DOUBLE)[1], 0.9);
  EXPECT_EQ(read_dataset<uint64_t>(path, "/LCLS/timestamp_raw", H5T_NATIVE_UINT64)[1],
            (uint64_t{1700000000} << 32) | 999999009);
  const auto data = read_dataset<float>(path, "/entry_1/data_1/data", H5T_NATIVE_FLOAT, &dims);
  EXPECT_EQ(dims, (std::vector<hsize_t>{3, 2, 3}));
  EXPECT_EQ(data[6], 9.0f);
  EXPECT_EQ(CxiFile::read_event_ids(path), (std::vector<uint64_t>{7, 9, 11}));
  const auto keys = CxiFile::read_event_keys(path);
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[1], (EventKey{0xabcdef0000000000ULL + 9, 9}));
  EXPECT_EQ(read_dataset<uint64_t>(path, "/LCLS/ingest_epoch", H5T_NATIVE_UINT64)[2], 0xabcdef0000000000ULL + 11);
}

// Files written before epochs existed have no /LCLS/ingest_epoch: their events are epoch 0.
TEST(WriterdCxiFile, EventKeysOfAFileWithoutEpochsHaveEpochZero) {
  TestSandbox box;
  const std::string path = (box.dir() / "old.cxi").string();
  {
    CxiFile sut(path, CxiLayout{});
    const CxiRow r0 = make_row(3, 1, 1.0f), r1 = make_row(4, 1, 1.0f);
    sut.append({&r0, &r1});
    sut.close();
  }
  {
    H5Handle file = h5_file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), "open " + path);
    ASSERT_GE(H5Ldelete(file.get(), "/LCLS/ingest_epoch", H5P_DEFAULT), 0);
  }
  EXPECT_EQ(CxiFile::read_event_keys(path), (std::vector<EventKey>{{0, 3}, {0, 4}}));
}

TEST(WriterdCxiFile, StoredDtypesAreWhatCrystfelExpects) {
  TestSandbox box;
  const std::string path = (box.dir() / "b.cxi").string();
  {
    CxiFile sut(path, CxiLayout{});
    const CxiRow r = make_row(1, 1, 0);
    sut.append({&r});
    sut.close();
  }
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  auto type_of = [&](const char* name) {
    const hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    const hid_t t = H5Dget_type(d);
    const bool is_i32 = H5Tequal(t, H5T_STD_I32LE) > 0, is_f32 = H5Tequal(t, H5T_IEEE_F32LE) > 0;
    H5Tclose(t);
    H5Dclose(d);
    return is_i32 ? "i32" : is_f32 ? "f32" : "other";
  };
  EXPECT_STREQ(type_of("/entry_1/result_1/nPeaks"), "i32");
  for (const char* n :
       {"/entry_1/result_1/peakXPosRaw", "/entry_1/result_1/peakYPosRaw", "/entry_1/result_1/peakSegPosRaw",
        "/entry_1/result_1/peakTotalIntensity", "/LCLS/photon_energy_eV"}) {
    EXPECT_STREQ(type_of(n), "f32") << n;
  }
  H5Fclose(f);
}

TEST(WriterdCxiFile, CreateInMissingDirectoryNamesThePath) {
  h5_silence_errors();
  try {
    CxiFile sut("/nonexistent-dir/x.cxi", CxiLayout{});
    FAIL() << "no error";
  } catch (const H5Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.cxi"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace peaknet::writerd
