// A hook for the kill -9 tests: with POP3D_TEST_EXPUNGE_PAUSE_MS=N in the
// environment, the expunge sleeps N ms after each of its steps, so that a
// test can kill it at every instant. Without the variable it does nothing.
#pragma once

namespace pop3d::mailbox {

void test_pause(const char* step) noexcept;

// Unit tests: a function called with each step's name where test_pause is
// (to change the mailbox at one exact step). nullptr: none.
void set_test_step_hook(void (*hook)(const char* step)) noexcept;

}  // namespace pop3d::mailbox
