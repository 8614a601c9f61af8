#include "base/private_files.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "base/sqlite_db.h"
#include "gtest/gtest.h"

namespace ers {
namespace {

class PrivateFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") +
                       "/private.XXXXXX";
    dir_ = mkdtemp(&tmpl[0]);
    old_umask_ = umask(022);  // what users have: files 0644 by default
  }
  void TearDown() override { umask(old_umask_); }

  static mode_t ModeOf(const std::string& path) {
    struct stat st;
    return lstat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::string dir_;
  mode_t old_umask_ = 0;
};

TEST_F(PrivateFilesTest, AtomicWritesAreOwnerOnlyWhateverTheUmask) {
  const std::string path = dir_ + "/a/b/secret";
  ASSERT_TRUE(WritePrivateFileAtomically(path, "one").ok());
  EXPECT_EQ(ModeOf(path), 0600);
  EXPECT_EQ(ModeOf(dir_ + "/a"), 0700);
  EXPECT_EQ(ModeOf(dir_ + "/a/b"), 0700);
  ASSERT_TRUE(WritePrivateFileAtomically(path, "two").ok());
  EXPECT_EQ(Read(path), "two");
}

TEST_F(PrivateFilesTest, APlantedSymlinkAtTheTemporaryNameIsNotWrittenThrough) {
  const std::string victim = dir_ + "/victim";
  std::ofstream(victim) << "untouched";
  const std::string path = dir_ + "/secret";
  ASSERT_EQ(symlink(victim.c_str(), (path + ".tmp").c_str()), 0);
  absl::Status s = WritePrivateFileAtomically(path, "token");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not a file of ours"), std::string::npos) << s;
  EXPECT_EQ(Read(victim), "untouched");
  // A stale temporary file of ours (a crash) is replaced.
  unlink((path + ".tmp").c_str());
  std::ofstream(path + ".tmp") << "half";
  EXPECT_TRUE(WritePrivateFileAtomically(path, "whole").ok());
  EXPECT_EQ(Read(path), "whole");
}

TEST_F(PrivateFilesTest, ExistingDirectoriesAreCheckedBeforeUse) {
  EXPECT_TRUE(EnsurePrivateDirectory(dir_ + "/spool").ok());
  EXPECT_EQ(ModeOf(dir_ + "/spool"), 0700);
  EXPECT_TRUE(EnsurePrivateDirectory(dir_ + "/spool").ok());
  // A symbolic link where the directory should be.
  ASSERT_EQ(mkdir((dir_ + "/elsewhere").c_str(), 0700), 0);
  ASSERT_EQ(symlink((dir_ + "/elsewhere").c_str(), (dir_ + "/linked").c_str()), 0);
  absl::Status s = EnsurePrivateDirectory(dir_ + "/linked");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("symbolic link"), std::string::npos) << s;
  // Writable by others.
  ASSERT_EQ(mkdir((dir_ + "/open").c_str(), 0700), 0);
  ASSERT_EQ(chmod((dir_ + "/open").c_str(), 0777), 0);
  s = EnsurePrivateDirectory(dir_ + "/open");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("written by others"), std::string::npos) << s;
  // Another user's (needs root, and a uid the sandbox maps, to arrange).
  ASSERT_EQ(mkdir((dir_ + "/theirs").c_str(), 0700), 0);
  if (chown((dir_ + "/theirs").c_str(), 65534, 65534) == 0) {
    s = EnsurePrivateDirectory(dir_ + "/theirs");
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("not to this user"), std::string::npos) << s;
  }
}

TEST_F(PrivateFilesTest, PrivateFilesAreNeverOpenedThroughALinkAndLoseGroupAccess) {
  const std::string victim = dir_ + "/victim";
  std::ofstream(victim) << "x";
  ASSERT_EQ(symlink(victim.c_str(), (dir_ + "/lock").c_str()), 0);
  absl::StatusOr<int> fd = OpenPrivateFile(dir_ + "/lock", O_CREAT);
  EXPECT_FALSE(fd.ok());
  const std::string loose = dir_ + "/loose";
  std::ofstream(loose) << "y";
  ASSERT_EQ(chmod(loose.c_str(), 0644), 0);
  fd = OpenPrivateFile(loose, 0);
  ASSERT_TRUE(fd.ok()) << fd.status();
  close(*fd);
  EXPECT_EQ(ModeOf(loose), 0600);
}

TEST_F(PrivateFilesTest, TheInventoryAndItsWalAreOwnerOnly) {
  const std::string path = dir_ + "/inv/ers.db";
  {
    absl::StatusOr<SqliteDb> db = OpenSqlite(path);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE(SqlExec(db->get(), "CREATE TABLE t (x); INSERT INTO t VALUES (1);", path).ok());
    EXPECT_EQ(ModeOf(path), 0600);
    EXPECT_EQ(ModeOf(path + "-wal"), 0600);
    EXPECT_EQ(ModeOf(path + "-shm"), 0600);
  }
  // One left readable by an older release is tightened on open.
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  ASSERT_TRUE(OpenSqlite(path).ok());
  EXPECT_EQ(ModeOf(path), 0600);
  // A symbolic link is refused.
  ASSERT_EQ(symlink(path.c_str(), (dir_ + "/link.db").c_str()), 0);
  absl::StatusOr<SqliteDb> linked = OpenSqlite(dir_ + "/link.db");
  ASSERT_FALSE(linked.ok());
  EXPECT_NE(linked.status().message().find("symbolic link"), std::string::npos);
}

TEST(DisableCoreDumpsTest, NoCoreFileAndNotDumpable) {
  DisableCoreDumps();
  rlimit core;
  ASSERT_EQ(getrlimit(RLIMIT_CORE, &core), 0);
  EXPECT_EQ(core.rlim_cur, 0u);
  EXPECT_EQ(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}

}  // namespace
}  // namespace ers
