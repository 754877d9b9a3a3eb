package bus

import "testing"

func TestOffsetRangeReadsBackWhatItWrites(t *testing.T) {
	r := OffsetRange{Partition: 7, First: 1200, Last: 1499}
	got, err := ParseOffsetRange(r.String())
	if err != nil || got != r {
		t.Fatalf("ParseOffsetRange(%q) = %+v, %v; want %+v", r.String(), got, err, r)
	}
	if _, err := ParseOffsetRange("7:1200"); err == nil {
		t.Error("a range without its last offset was read without an error")
	}
}
