// One API client for the page, over the fetch requester, and the query hooks the pages read
// through. Every hook polls every POLL_MS (server-sent events replace polling later: issue 12).

import { createApiClient, type ApiInput, type ApiResponse } from '@jobmon/core/api';
import { keepPreviousData, QueryClient, useQuery } from '@tanstack/react-query';
import { useSyncExternalStore } from 'react';
import { FetchRequester, type ServerState } from './requester.js';

export const POLL_MS = 2_000;

export const requester = new FetchRequester();
export const api = createApiClient(requester);

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // Polling is the retry: a failed poll shows the banner and the next one tries again.
      retry: false,
      refetchInterval: POLL_MS,
      refetchOnWindowFocus: true,
    },
  },
});

export function useServerState(): ServerState {
  return useSyncExternalStore(requester.subscribe, requester.snapshot);
}

export type WorkflowList = ApiResponse<'listWorkflows'>;
export type WorkflowListItem = WorkflowList['workflows'][number];
export type WorkflowStatus = WorkflowListItem['status'];
export type ListQuery = NonNullable<ApiInput<'listWorkflows'>['query']>;
export type WorkflowDetail = ApiResponse<'getWorkflow'>;
export type WorkflowProgress = ApiResponse<'getWorkflowProgress'>;
export type ErrorGroups = ApiResponse<'getWorkflowErrorGroups'>;

/** `since` is a token from the URL (1h, 1d, …): turned into a time when the request leaves, so the
 *  query key stays the same from one poll to the next. */
export function useWorkflowList(filters: { name?: string; user?: string; status?: string; since?: string }) {
  return useQuery({
    queryKey: ['workflows', filters],
    // The old rows stay while a changed filter loads (not across workflows: a page must never
    // show one workflow's data under another's id).
    placeholderData: keepPreviousData,
    queryFn: ({ signal }) => {
      const query: ListQuery = { limit: 100 };
      if (filters.name) query.name = filters.name;
      if (filters.user) query.user = filters.user;
      if (filters.status) query.status = filters.status;
      const sinceMs = filters.since ? SINCE_MS[filters.since] : undefined;
      if (sinceMs !== undefined) query.createdAfter = new Date(Date.now() - sinceMs).toISOString();
      return api.listWorkflows({ query }, { signal });
    },
  });
}

export const SINCE_MS: Record<string, number> = {
  '1h': 3_600_000,
  '1d': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};

export function useWorkflow(id: number) {
  return useQuery({ queryKey: ['workflow', id], queryFn: ({ signal }) => api.getWorkflow({ id }, { signal }) });
}

export function useProgress(id: number, opts: { enabled?: boolean; intervalMs?: number } = {}) {
  return useQuery({
    queryKey: ['progress', id],
    queryFn: ({ signal }) => api.getWorkflowProgress({ id }, { signal }),
    enabled: opts.enabled ?? true,
    refetchInterval: opts.intervalMs ?? POLL_MS,
  });
}

export function useErrorGroups(id: number) {
  return useQuery({
    queryKey: ['error-groups', id],
    queryFn: ({ signal }) => api.getWorkflowErrorGroups({ id, query: { limit: 20 } }, { signal }),
  });
}

/** The workflow's tool: GET /workflows/{id} does not carry it, the list does. Read once (a
 *  workflow's tool never changes) among the workflows of that name created up to it. */
export function useToolOf(wf: WorkflowDetail | undefined) {
  return useQuery({
    queryKey: ['tool-of', wf?.id],
    enabled: wf !== undefined,
    staleTime: Infinity,
    refetchInterval: false,
    queryFn: async ({ signal }) => {
      const page = await api.listWorkflows(
        {
          query: { exactName: wf!.name, createdBefore: new Date(wf!.createdAt + 1).toISOString(), limit: 50 },
        },
        { signal },
      );
      return page.workflows.find((w) => w.id === wf!.id)?.tool ?? null;
    },
  });
}
