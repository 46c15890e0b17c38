package parallel

import (
	"errors"
	"fmt"
	"testing"
)

func TestForRunsEveryJobAndReportsLowestError(t *testing.T) {
	for _, workers := range []int{1, 2, 7} {
		got := make([]int, 50)
		err := For(len(got), workers, nil, nil, func(i int) error {
			got[i] = i * i
			if i == 31 || i == 17 {
				return fmt.Errorf("job %d", i)
			}
			return nil
		})
		if err == nil || err.Error() != "job 17" {
			t.Errorf("workers %d: error %v, want the lowest failing job, 17", workers, err)
		}
		for i, v := range got {
			if v != i*i {
				t.Fatalf("workers %d: job %d not run", workers, i)
			}
		}
	}
}

func TestForStops(t *testing.T) {
	calls := 0
	err := For(10, 1, func() bool { return calls >= 3 }, nil, func(i int) error {
		calls++
		return nil
	})
	if !errors.Is(err, ErrStopped) || calls != 3 {
		t.Errorf("err %v after %d jobs, want ErrStopped after 3", err, calls)
	}
}
