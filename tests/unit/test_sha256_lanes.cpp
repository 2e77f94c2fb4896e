// Sha256Lanes: many messages hashed two at a time give exactly the digests
// that Sha256 gives each of them alone, whatever their lengths and the way
// their bytes are appended.
#include "mailbox/sha256_lanes.hpp"

#include "digest_helpers.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using pop3d::mailbox::Sha256;
using pop3d::mailbox::Sha256Lanes;

namespace {

using pop3d::testing::hex;

std::string one_stream(const std::string& s) { return pop3d::testing::sha256_hex(s); }

std::uint32_t next_random(std::uint32_t& x) { return (x = x * 1103515245 + 12345) >> 8; }

std::string random_bytes(std::size_t n, std::uint32_t& x) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(next_random(x));
    return s;
}

enum class Mode { lanes, single, portable };

// Queues every message (appended in pieces of `step` bytes when step > 0,
// else in random pieces), runs, returns the digests.
std::vector<std::string> lane_digests(const std::vector<std::string>& msgs, Mode mode, std::size_t step,
                                      std::uint32_t seed = 7) {
    Sha256Lanes lanes;
    if (mode == Mode::single) lanes.force_single_stream();
    if (mode == Mode::portable) lanes.force_portable();
    std::vector<std::size_t> jobs;
    for (const std::string& m : msgs) {
        lanes.begin();
        for (std::size_t i = 0; i < m.size();) {
            const std::size_t n = std::min(m.size() - i, step > 0 ? step : 1 + next_random(seed) % 300);
            lanes.append(m.data() + i, n);
            i += n;
        }
        jobs.push_back(lanes.end());
    }
    lanes.run();
    std::vector<std::string> out;
    for (std::size_t j : jobs) out.push_back(hex(lanes.digest(j)));
    return out;
}

}  // namespace

TEST(Sha256Lanes, FipsVectors) {
    const std::vector<std::string> msgs = {"abc", "", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                                           std::string(1000000, 'a')};
    const std::vector<std::string> want = {
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
    };
    for (Mode mode : {Mode::lanes, Mode::single, Mode::portable})
        EXPECT_EQ(lane_digests(msgs, mode, 4096), want) << static_cast<int>(mode);
}

// Every length from 0 to 200 (each end of a block, and the padding that
// spills into a second block), then random lengths up to 5000, in random
// order so that the two lanes end at every offset of each other.
TEST(Sha256Lanes, AgreeWithOneStreamOnEveryLength) {
    std::uint32_t x = 12345;
    std::vector<std::string> msgs;
    for (std::size_t n = 0; n <= 200; ++n) msgs.push_back(random_bytes(n, x));
    for (int i = 0; i < 400; ++i) msgs.push_back(random_bytes(next_random(x) % 5001, x));
    std::vector<std::string> want;
    for (const std::string& m : msgs) want.push_back(one_stream(m));
    EXPECT_EQ(lane_digests(msgs, Mode::lanes, 0), want);
    EXPECT_EQ(lane_digests(msgs, Mode::lanes, 1), want);
    EXPECT_EQ(lane_digests(msgs, Mode::single, 64), want);
    EXPECT_EQ(lane_digests(msgs, Mode::portable, 0), want);
    // An odd number of messages: the last one runs alone.
    msgs.pop_back();
    want.pop_back();
    EXPECT_EQ(lane_digests(msgs, Mode::lanes, 0), want);
}

// Messages larger than kMaxQueuedPerMessage are hashed as they come; their
// ends still pair with the small messages around them.
TEST(Sha256Lanes, LargeMessagesBesideSmallOnes) {
    std::uint32_t x = 99;
    const std::size_t big = Sha256Lanes::kMaxQueuedPerMessage;
    std::vector<std::string> msgs = {random_bytes(10, x),      random_bytes(big - 1, x), random_bytes(big, x),
                                     random_bytes(3000, x),    random_bytes(big + 1, x), random_bytes(3 * big + 77, x),
                                     random_bytes(0, x)};
    std::vector<std::string> want;
    for (const std::string& m : msgs) want.push_back(one_stream(m));
    EXPECT_EQ(lane_digests(msgs, Mode::lanes, 0), want);
    EXPECT_EQ(lane_digests(msgs, Mode::lanes, 100000), want);
    EXPECT_EQ(lane_digests(msgs, Mode::portable, 65536), want);
}

TEST(Sha256Lanes, ClearStartsAnewAndKeepsWorking) {
    Sha256Lanes lanes;
    for (int round = 0; round < 3; ++round) {
        lanes.clear();
        std::vector<std::string> msgs;
        std::vector<std::size_t> jobs;
        for (int i = 0; i < 5; ++i) {
            msgs.push_back(std::string(static_cast<std::size_t>(round * 100 + i * 37), static_cast<char>('a' + i)));
            lanes.begin();
            lanes.append(msgs.back().data(), msgs.back().size());
            jobs.push_back(lanes.end());
        }
        EXPECT_EQ(jobs.front(), 0u);
        lanes.run();
        for (int i = 0; i < 5; ++i) EXPECT_EQ(hex(lanes.digest(jobs[static_cast<std::size_t>(i)])), one_stream(msgs[static_cast<std::size_t>(i)]));
    }
}
