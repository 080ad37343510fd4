// nil-map-assign, Go twin of nil-map-assign.c: assignment into a nil map,
// a struct field that was never initialised. Certain, no goroutines.
//
// Shape:   var c Config; c.labels["env"] = 1 (after a read, which is fine)
// Expect:  panic: assignment to entry in nil map (exit status 2)
// Fix:     a constructor that makes the map.

package main

type Config struct {
	name   string
	labels map[string]int // nil until made
}

func NewConfig(name string) Config { return Config{name, map[string]int{}} } // the fix

func label(c *Config) {
	if c.labels["env"] == 0 { // reading a nil map is fine
		c.labels["env"] = 1
	}
}

func main() {
	twinMain("nil-map-assign", []string{"bad", "fixed"}, func(variant string) {
		c := Config{name: "svc"} // labels never made
		if variant == "fixed" {
			c = NewConfig("svc")
		}
		label(&c)
	})
}
