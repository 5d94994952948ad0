// The GUI's entry: the query client, the router (browser history: the server answers index.html
// for any path outside /api, so /workflows/7 can be opened directly) and the pages.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClientProvider } from '@tanstack/react-query';
import { BrowserRouter, Link, Route, Routes } from 'react-router';
import { queryClient } from './api/client.js';
import { Banners } from './components/banners.js';
import { Overview } from './routes/overview.js';
import { WorkflowPage } from './routes/workflow.js';
import './styles.css';

function App() {
  return (
    <>
      <nav className="top">
        <Link to="/" className="brand">
          Jobmon
        </Link>
      </nav>
      <Banners />
      <Routes>
        <Route path="/" element={<Overview />} />
        <Route path="/workflows/:id" element={<WorkflowPage />} />
        <Route
          path="*"
          element={
            <main>
              <p>
                No such page. <Link to="/">All workflows</Link>
              </p>
            </main>
          }
        />
      </Routes>
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
