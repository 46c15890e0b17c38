package nettalk

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func TestZZProfile(t *testing.T) {
	dir := os.Getenv("OBS_NETTALK_PROF")
	if dir == "" {
		t.Skip("set OBS_NETTALK_PROF")
	}
	s := DefaultSettings()
	s.Dir = dir
	last := ""
	t0 := time.Now()
	s.Progress = func(p Progress) {
		key := fmt.Sprintf("%s %v", p.Stage, p.Building)
		if key != last || p.Building {
			fmt.Fprintf(os.Stderr, "%7.1fs %s done=%d/%d left=%d building=%v\n", time.Since(t0).Seconds(), p.Stage, p.Done, p.Total, p.Left, p.Building)
			last = key
		}
	}
	if _, err := Run(s); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "%7.1fs end\n", time.Since(t0).Seconds())
}
