import { type QueryKey, type UseQueryOptions, useQueries } from "@tanstack/react-query";
import { useVirtualizer, type VirtualItem, type Virtualizer } from "@tanstack/react-virtual";
import { type RefObject, useCallback, useRef } from "react";
import { PAGE_SIZE } from "./queries";

/** One page of a list as the back end serves it (`SessionPage`, `UserPage`). */
export type RowPage = { offset: number; rows: readonly unknown[] };

/** The rows of a page type. */
export type RowOf<Page extends RowPage> = Page["rows"][number];

/** The query of one page: what `pageQueryOptions` and `userPageQueryOptions` return. */
export type PageQuery<Page, Key extends QueryKey> = UseQueryOptions<Page, Error, Page, Key>;

export type VirtualPagesOptions<Page, Key extends QueryKey> = {
  /** Rows in the whole list. */
  total: number;
  scrollRef: RefObject<HTMLDivElement | null>;
  /** The height of the header row above the virtual rows. */
  headerHeight: number;
  estimateSize: (index: number) => number;
  /** The query of page `page` (rows `page * PAGE_SIZE` on). */
  pageQuery: (page: number) => PageQuery<Page, Key>;
};

export type VirtualPages<Row> = {
  virtualizer: Virtualizer<HTMLDivElement, Element>;
  /** The rows rendered now (the visible ones and a few either side). */
  items: VirtualItem[];
  /**
   * The row at `index` if its page is in the rendered window: loaded, or (while the page of
   * a new query loads) the last data seen for that page, so nothing jumps.
   */
  rowAt: (index: number) => Row | undefined;
  /** As `rowAt`, and also from pages outside the window that were seen before. */
  lastKnownRowAt: (index: number) => Row | undefined;
};

/**
 * A long list shown a window at a time: the virtualizer over `total` rows and the pages
 * (of `PAGE_SIZE` rows) the rendered window needs, fetched as it scrolls.
 */
export function useVirtualPages<Page extends RowPage, Key extends QueryKey>(
  options: VirtualPagesOptions<Page, Key>,
): VirtualPages<RowOf<Page>> {
  const { total, scrollRef, headerHeight, estimateSize, pageQuery } = options;
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scrollRef.current,
    estimateSize,
    overscan: 12,
    scrollMargin: headerHeight,
    scrollPaddingStart: headerHeight,
    initialRect: { width: 1280, height: 600 },
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0];
  const last = items[items.length - 1];
  const firstPage = first ? Math.floor(first.index / PAGE_SIZE) : 0;
  const lastPage = last ? Math.floor(last.index / PAGE_SIZE) : -1;

  // Last data seen per page index: shown while a page for a new query loads.
  const fallback = useRef(new Map<number, Page>());
  const pageNums: number[] = [];
  for (let p = firstPage; p <= lastPage; p++) pageNums.push(p);
  const pages = useQueries({ queries: pageNums.map((p) => pageQuery(p)) });
  pages.forEach((q, i) => {
    const p = pageNums[i];
    if (p !== undefined && q.data) fallback.current.set(p, q.data);
  });

  const rowAt = useCallback(
    (index: number): RowOf<Page> | undefined => {
      const p = Math.floor(index / PAGE_SIZE);
      const q = pages[p - firstPage];
      const page = q ? (q.data ?? fallback.current.get(p)) : undefined;
      return page ? page.rows[index - page.offset] : undefined;
    },
    [pages, firstPage],
  );
  const lastKnownRowAt = useCallback(
    (index: number): RowOf<Page> | undefined => {
      const p = Math.floor(index / PAGE_SIZE);
      const page = pages[p - firstPage]?.data ?? fallback.current.get(p);
      return page ? page.rows[index - page.offset] : undefined;
    },
    [pages, firstPage],
  );

  return { virtualizer, items, rowAt, lastKnownRowAt };
}
