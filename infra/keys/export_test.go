package keys

// SparesHeld is how many spare keys s holds in memory, ready to be taken without a round trip.
func SparesHeld(s *Store) int {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	return len(s.cache.spares.keys)
}
