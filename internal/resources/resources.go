// Package resources estimates what a command will allocate and checks it
// against the memory the machine (or its cgroup) has available, or a limit
// the user gave, before the memory is spent.
//
// An Estimate lists the large allocations of a run by name (dense n x n
// matrices, per-parameter vectors times their number); sizes are float64
// bytes so that absurd requests (a 400-million-parameter network's Hessian)
// are computed without overflow. Check refuses an estimate above the limit
// with one line naming the total, its largest parts and the settings that
// would need less.
package resources

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
)

// Float64Bytes is the size of one float64.
const Float64Bytes = 8

// Part is one named allocation of an estimate.
type Part struct {
	What  string
	Bytes float64
}

// Estimate is the sum of the large allocations of a run.
type Estimate struct {
	Parts []Part
}

// Add records an allocation of the given bytes under a name; zero or
// negative sizes are ignored.
func (e *Estimate) Add(what string, bytes float64) {
	if bytes > 0 {
		e.Parts = append(e.Parts, Part{what, bytes})
	}
}

// Floats records count float64 values.
func (e *Estimate) Floats(what string, count float64) {
	e.Add(what, count*Float64Bytes)
}

// Square records k dense n x n float64 matrices.
func (e *Estimate) Square(what string, k, n float64) {
	e.Add(what, k*n*n*Float64Bytes)
}

// Total returns the sum of the parts in bytes.
func (e *Estimate) Total() float64 {
	t := 0.0
	for _, p := range e.Parts {
		t += p.Bytes
	}
	return t
}

// describe lists the largest parts, biggest first, at most three.
func (e *Estimate) describe() string {
	ps := append([]Part(nil), e.Parts...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Bytes > ps[j].Bytes })
	var s []string
	for i, p := range ps {
		if i == 3 {
			s = append(s, "...")
			break
		}
		s = append(s, p.What+" "+Format(p.Bytes))
	}
	return strings.Join(s, ", ")
}

// ErrTooLarge is wrapped by Check's error.
var ErrTooLarge = errors.New("not enough memory")

// Check returns nil if the estimate fits in limit bytes when limit > 0,
// or else in the memory Available reports (if it reports none, nothing is
// refused). Otherwise it returns one line wrapping ErrTooLarge: what the
// run needs, its largest parts, what is available and from where, and
// alternatives (a phrase such as "use --structure block:B or fewer
// restarts"). When the run is allowed, Check also sets the Go runtime's
// soft memory limit to the limit, so that the collector works harder
// instead of letting freed matrices pile up past it.
func Check(e *Estimate, limit float64, alternatives string) error {
	src := "--max-memory"
	if limit <= 0 {
		var ok bool
		limit, src, ok = Available()
		if !ok {
			return nil
		}
	}
	need := e.Total()
	if need > limit {
		msg := fmt.Sprintf("this run needs about %s (%s) but %s is available (%s)", Format(need), e.describe(), Format(limit), src)
		if alternatives != "" {
			msg += "; " + alternatives
		}
		return fmt.Errorf("%w: %s", ErrTooLarge, msg)
	}
	if limit < math.MaxInt64/2 {
		debug.SetMemoryLimit(int64(limit))
	}
	return nil
}

// Available returns the memory this process can still use in bytes: the
// kernel's MemAvailable (/proc/meminfo), lowered to the cgroup's limit
// minus its usage where one is set (cgroup v2 memory.max, or v1
// memory.limit_in_bytes) and to what the soft RLIMIT_AS (ulimit -v)
// leaves of the address space (Linux). src names where the figure came from; ok is
// false where neither can be read (then nothing is refused).
func Available() (bytes float64, src string, ok bool) {
	if v, found := memAvailable("/proc/meminfo"); found {
		bytes, src, ok = v, "MemAvailable in /proc/meminfo", true
	}
	for _, cg := range [][2]string{
		{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"},
		{"/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"},
	} {
		limit, lok := readNumber(cg[0])
		if !lok || limit >= 1<<60 { // "max" or v1's "no limit" (about 2^63)
			continue
		}
		used, _ := readNumber(cg[1])
		if free := math.Max(limit-used, 0); !ok || free < bytes {
			bytes, src, ok = free, "cgroup limit "+cg[0]+" minus usage", true
		}
		break
	}
	if as, found := addressSpace(); found && (!ok || as < bytes) {
		bytes, src, ok = as, "RLIMIT_AS (ulimit -v) minus the address space in use", true
	}
	return bytes, src, ok
}

// memAvailable reads the MemAvailable line of a meminfo file, in bytes.
func memAvailable(path string) (float64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			v, err := strconv.ParseFloat(fields[1], 64)
			if err != nil {
				return 0, false
			}
			if len(fields) >= 3 && fields[2] == "kB" {
				v *= 1024
			}
			return v, true
		}
	}
	return 0, false
}

// readNumber reads a file holding one number ("max" is not one).
func readNumber(path string) (float64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
	return v, err == nil
}

var units = []struct {
	suffix string
	bytes  float64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"kB", 1e3},
	{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"k", 1 << 10},
	{"B", 1},
}

// ParseSize parses a size such as "512M", "4G", "1.5GiB", "2GB" or a plain
// number of bytes. One-letter suffixes and the IEC ones (KiB, MiB, GiB,
// TiB) are powers of 1024, the SI ones (kB, MB, GB, TB) powers of 1000.
func ParseSize(s string) (float64, error) {
	t := strings.TrimSpace(s)
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.bytes
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("size %q is not a positive number of bytes like 512M, 4G or 2GB", s)
	}
	return v * mult, nil
}

// Format prints a byte count with a binary unit, 3 significant digits.
func Format(b float64) string {
	for _, u := range []struct {
		s string
		v float64
	}{{"PiB", 1 << 50}, {"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b >= u.v {
			return strconv.FormatFloat(b/u.v, 'g', 3, 64) + " " + u.s
		}
	}
	return strconv.FormatFloat(b, 'g', 3, 64) + " B"
}
