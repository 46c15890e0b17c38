package hessian

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDot4 compares dot4 with plain sums for every length up to 40 (all
// remainders of the 8-wide loop) and unaligned starts. The kernel sums in
// another order (and with fused multiply-adds), so the error allowed is
// n eps times the sum of |a_k b_k|.
func TestDot4(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	buf := make([]float64, 5*48)
	for i := range buf {
		buf[i] = rng.NormFloat64()
	}
	t.Logf("AVX2/FMA kernel: %v", hasAVX2FMA)
	for n := 0; n <= 40; n++ {
		for off := 0; off < 3; off++ {
			a := buf[off : off+n]
			bs := [4][]float64{buf[48+off:], buf[96+2*off:], buf[144+off:], buf[192+off:]}
			got := dot4(a, bs[0], bs[1], bs[2], bs[3])
			for j, b := range bs {
				want, abs := 0.0, 0.0
				for k := range a {
					want += a[k] * b[k]
					abs += math.Abs(a[k] * b[k])
				}
				if d := math.Abs(got[j] - want); d > float64(n+1)*0x1p-52*abs {
					t.Errorf("n = %d, offset %d: dot %d = %v, want %v", n, off, j, got[j], want)
				}
			}
		}
	}
}
