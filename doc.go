// Package jwtuser is a Caddy HTTP handler that verifies a request's JWT, loads
// the user the token names and exposes both as placeholders.
package jwtuser
