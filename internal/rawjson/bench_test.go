package rawjson

import "testing"

// benchClaims is a typical token payload.
const benchClaims = `{"iss":"https://id.example.com/realms/main","sub":"f81d4fae-7dec-11d0-a765-00a0c91e6bf6",` +
	`"aud":["api","account"],"exp":1767225600,"iat":1767222000,"nbf":1767222000,"jti":"5a0c1d2e-3b4f-4a5b-8c9d-0e1f2a3b4c5d",` +
	`"azp":"web","scope":"openid profile email","email":"ada@example.com","email_verified":true,"name":"Ada Lovelace",` +
	`"preferred_username":"ada","realm_access":{"roles":["offline_access","uma_authorization","admin"]},` +
	`"resource_access":{"api":{"roles":["read","write"]}},"https://example.com/tenant":{"id":12345678901234567890,"tier":"gold"}}`

// The hot-path readers hand back substrings and allocate nothing. Not
// parallel: testing.AllocsPerRun panics while parallel tests run.
func TestReadersDoNotAllocate(t *testing.T) {
	claims := mustCheck(t, benchClaims)
	var sink Text
	tests := map[string]func(){
		"Member":      func() { sink, _ = claims.Member("email") },
		"Member last": func() { sink, _ = claims.Member("https://example.com/tenant") },
		"Member miss": func() { sink, _ = claims.Member("missing") },
		"Path":        func() { sink, _ = claims.Path("resource_access.api.roles") },
		"Path dotted": func() { sink, _ = claims.Path("https://example.com/tenant.id") },
		"Elements": func() {
			roles, _ := claims.Path("realm_access.roles")
			roles.Elements(func(v Text) bool { sink = v; return true })
		},
		"Members":  func() { claims.Members(func(_, v Text) bool { sink = v; return true }) },
		"Unquote":  func() { v, _ := claims.Member("sub"); _ = v.Unquote() },
		"Compact":  func() { _ = claims.Compact() },
		"Kind":     func() { _ = claims.Kind() },
		"IsNumber": func() { v, _ := claims.Member("exp"); _ = v.IsNumber() },
	}
	for name, f := range tests {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, n)
		}
	}
	_ = sink
}

func BenchmarkMember(b *testing.B) {
	claims := mustCheck(b, benchClaims)
	b.ReportAllocs()
	for b.Loop() {
		if v, ok := claims.Member("email"); !ok || v.Kind() != '"' {
			b.Fatal("email not found")
		}
	}
}

func BenchmarkPath(b *testing.B) {
	claims := mustCheck(b, benchClaims)
	b.ReportAllocs()
	for b.Loop() {
		if v, ok := claims.Path("realm_access.roles"); !ok || v.Kind() != '[' {
			b.Fatal("realm_access.roles not found")
		}
	}
}
