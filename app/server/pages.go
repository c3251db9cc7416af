package server

// registerPages adds the web app's pages (funding lines, programmes,
// organisations and their forms).
func (s *Server) registerPages() {}
