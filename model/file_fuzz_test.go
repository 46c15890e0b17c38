package model

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

// FuzzParseFile feeds arbitrary bytes to the model-file parser: it must never
// panic, and whatever it accepts must be a consistent network (finite
// parameters, pruned ones exactly 0) that round-trips through Encode.
func FuzzParseFile(f *testing.F) {
	m, err := New(Spec{Sizes: []int{2, 2, 1}, Hidden: Sigmoid, Output: Sigmoid, Loss: SquaredError})
	if err != nil {
		f.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(1, 1)))
	m.Prune(4)
	var good bytes.Buffer
	if err := m.ToFile(Provenance{Data: "xor"}, nil).Encode(&good); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:good.Len()/2])
	f.Add([]byte(`{"format":"obs-model/1","arch":[1,1],"hidden":"tanh","output":"identity","loss":"mse","params":[0.5,0],"pruned":[false,true]}`))
	f.Add([]byte(`{"format":"obs-model/1","arch":[3,2],"hidden":"relu","output":"softmax","loss":"ce","params":[1,2,3,4,5,6,7,8]}`))
	f.Add([]byte(`{"format":"obs-model/1","arch":[65536,65536,65536],"hidden":"relu","output":"identity","loss":"mse"}`))
	f.Add([]byte(`{"format":"obs-model/2","input":[1,3,3],"layers":"conv:1:2:nobias,relu,flatten,linear:1:nobias","output":"identity","loss":"mse","params":[1,2,3,4,5,6,7,8]}`))
	f.Add([]byte(`{"format":"obs-model/2","input":[67108864,67108864,67108864],"layers":"conv:1:8192:p=8191,flatten,linear:1","output":"identity","loss":"mse"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		net, file, err := ParseFile(data, "fuzz.json")
		if err != nil {
			if net != nil || file != nil {
				t.Fatal("error with a non-nil result")
			}
			return
		}
		for q, v := range net.Params {
			if math.IsNaN(v) || math.IsInf(v, 0) || (net.Pruned[q] && v != 0) {
				t.Fatalf("accepted parameter %d = %v (pruned %v)", q, v, net.Pruned[q])
			}
		}
		var buf bytes.Buffer
		if err := net.ToFile(file.Provenance, file.History).Encode(&buf); err != nil {
			t.Fatalf("accepted model does not encode: %v", err)
		}
		again, _, err := ParseFile(buf.Bytes(), "again.json")
		if err != nil {
			t.Fatalf("re-encoded model does not parse: %v", err)
		}
		for q := range net.Params {
			if again.Params[q] != net.Params[q] {
				t.Fatalf("parameter %d changed from %v to %v in a round trip", q, net.Params[q], again.Params[q])
			}
		}
	})
}
