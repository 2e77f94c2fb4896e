// The connection table behind max_connections and
// max_connections_per_address: counting per client (IPv6 per /64) and the
// hand-over from a balancer's address to its client's (PROXY protocol).
#include "net/connection_table.hpp"

#include <gtest/gtest.h>

#include <cstddef>

using namespace pop3d::net;

TEST(ConnectionTable, OneSlash64IsOneClient) {
    ConnectionTable t;
    EXPECT_EQ(t.admit("2001:db8:1:2::1", 100, 2), ConnectionTable::Admit::ok);
    EXPECT_EQ(t.admit("2001:db8:1:2::2", 100, 2), ConnectionTable::Admit::ok);
    EXPECT_EQ(t.admit("2001:db8:1:2::3", 100, 2), ConnectionTable::Admit::too_many_from_address);
    EXPECT_EQ(t.admit("2001:db8:1:3::1", 100, 2), ConnectionTable::Admit::ok);  // another /64
    t.release("2001:db8:1:2::1");
    EXPECT_EQ(t.admit("2001:db8:1:2::3", 100, 2), ConnectionTable::Admit::ok);
    EXPECT_EQ(t.count(), 3u);
    // A balancer's connection handed over to clients of one /64.
    EXPECT_EQ(t.admit("127.0.0.2", 100, static_cast<std::size_t>(-1)), ConnectionTable::Admit::ok);
    EXPECT_EQ(t.transfer("127.0.0.2", "2001:db8:1:2::9", 2), ConnectionTable::Admit::too_many_from_address);
    EXPECT_EQ(t.count(), 3u);
    for (const char* a : {"2001:db8:1:2::2", "2001:db8:1:2::3", "2001:db8:1:3::1"}) t.release(a);
    EXPECT_EQ(t.count(), 0u);
    EXPECT_EQ(t.admit("fe80::2%lo", 100, 1), ConnectionTable::Admit::ok);
    EXPECT_EQ(t.admit("fe80::3", 100, 1), ConnectionTable::Admit::too_many_from_address);
}

TEST(ConnectionTable, TransferMovesAConnectionToTheClientsAddress) {
    ConnectionTable t;
    const std::size_t unlimited = static_cast<std::size_t>(-1);
    ASSERT_EQ(t.admit("10.0.0.5", 10, unlimited), ConnectionTable::Admit::ok);
    ASSERT_EQ(t.admit("10.0.0.5", 10, unlimited), ConnectionTable::Admit::ok);
    ASSERT_EQ(t.admit("10.0.0.5", 10, unlimited), ConnectionTable::Admit::ok);
    EXPECT_EQ(t.transfer("10.0.0.5", "192.0.2.7", 1), ConnectionTable::Admit::ok);
    EXPECT_EQ(t.transfer("10.0.0.5", "192.0.2.8", 1), ConnectionTable::Admit::ok);
    EXPECT_EQ(t.count(), 3u);
    // A second connection of 192.0.2.7 through the balancer is over its limit and let go.
    EXPECT_EQ(t.transfer("10.0.0.5", "192.0.2.7", 1), ConnectionTable::Admit::too_many_from_address);
    EXPECT_EQ(t.count(), 2u);
    t.release("192.0.2.7");
    t.release("192.0.2.8");
    EXPECT_EQ(t.count(), 0u);
    EXPECT_EQ(t.admit("192.0.2.7", 10, 1), ConnectionTable::Admit::ok);  // nothing left behind
    EXPECT_EQ(t.admit("10.0.0.5", 10, 1), ConnectionTable::Admit::ok);
}
