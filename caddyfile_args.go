package jwtuser

// Argument readers shared by the jwt_user directive and the guest modules'
// Caddyfile syntax. They check syntax only; limits are Provision's.

import (
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/dustin/go-humanize"
)

func oneArg(d *caddyfile.Dispenser) (string, error) {
	if !d.NextArg() {
		return "", d.ArgErr()
	}
	v := d.Val()
	if d.NextArg() {
		return "", d.ArgErr()
	}
	return v, nil
}

func someArgs(d *caddyfile.Dispenser) ([]string, error) {
	args := d.RemainingArgs()
	if len(args) == 0 {
		return nil, d.ArgErr()
	}
	return args, nil
}

func durationArg(d *caddyfile.Dispenser) (time.Duration, error) {
	name := d.Val()
	v, err := oneArg(d)
	if err != nil {
		return 0, err
	}
	dur, err := caddy.ParseDuration(v)
	if err != nil {
		return 0, d.Errf("%s: %v", name, err)
	}
	return dur, nil
}

func sizeArg(d *caddyfile.Dispenser) (int, error) {
	name := d.Val()
	v, err := oneArg(d)
	if err != nil {
		return 0, err
	}
	n, err := humanize.ParseBytes(v)
	if err != nil || n > 1<<40 {
		return 0, d.Errf("%s: %q is not a size in bytes (4096, 4KiB, 1MB)", name, v)
	}
	return int(n), nil
}

// guestArgs reads a guest module's own tokens when they are all on one
// line: its name (the shortcut or the module name), then min to max
// arguments, and no block.
func guestArgs(d *caddyfile.Dispenser, min, max int) (name string, args []string, err error) {
	d.Next()
	name = d.Val()
	args = d.RemainingArgs()
	if len(args) < min || len(args) > max {
		return name, nil, d.ArgErr()
	}
	if d.NextBlock(d.Nesting()) {
		return name, nil, d.Errf("%s: takes no block", name)
	}
	return name, args, nil
}
