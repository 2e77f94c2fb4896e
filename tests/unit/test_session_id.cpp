// Session ids (log/session_id): short, and distinct for distinct (pid, count).
#include "log/session_id.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <regex>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>

using namespace pop3d;

namespace {

TEST(SessionId, EightCharactersThatReadWell) {
    const std::regex shape("[0-9a-hjkmnp-tv-z]{8}");
    for (int i = 0; i < 1000; ++i) {
        const std::string id = log::new_session_id();
        EXPECT_TRUE(std::regex_match(id, shape)) << id;
    }
}

TEST(SessionId, DistinctPidAndCountGiveDistinctIds) {
    std::set<std::pair<std::uint32_t, std::uint32_t>> pairs;
    for (std::uint32_t pid : {1u, 2u, 1000u, 4194303u, 31337u})
        for (std::uint32_t count = 0; count < 20000; ++count) pairs.emplace(pid, count);
    for (std::uint32_t pid = 3; pid < 100000; ++pid) pairs.emplace(pid, 0);
    std::set<std::string> ids;
    for (const auto& [pid, count] : pairs) ids.insert(log::session_id_for(pid, count, 0x1234));
    EXPECT_EQ(ids.size(), pairs.size());
}

TEST(SessionId, NeighboursDoNotLookAlikeAndTheKeyChangesThem) {
    const std::string a = log::session_id_for(4242, 7, 1), b = log::session_id_for(4242, 8, 1);
    std::size_t same = 0;
    for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
    EXPECT_LT(same, 5u) << a << " " << b;
    EXPECT_NE(log::session_id_for(4242, 7, 1), log::session_id_for(4242, 7, 2));
}

// What one process draws through new_session_id (its pid, counts 0, 1, 2,
// ...), with explicit counts: no test depends on the process-wide counter.
TEST(SessionId, OneProcessRepeatsNoIdUntilItsCountWraps) {
    constexpr std::uint32_t kWrap = 1u << 18;
    std::unordered_set<std::string> ids;
    for (std::uint32_t count = 0; count < kWrap; ++count) ids.insert(log::session_id_for(31337, count, 0xfeed));
    EXPECT_EQ(ids.size(), kWrap);
    EXPECT_EQ(log::session_id_for(31337, kWrap, 0xfeed), log::session_id_for(31337, 0, 0xfeed));
}

}  // namespace
