package main

// stderrTerminalEnv tells a supervised obs that the supervisor's stderr is
// a terminal (its own is a pipe), so that it draws its progress bar.
const stderrTerminalEnv = "OBS_STDERR_TERMINAL"
