// A partner's exchange list: a paginated @connection in a @refetchable fragment on Query.
import { graphql } from "relay-runtime";

export const ExchangeListQuery = graphql`
  query ExchangeListQuery($count: Int!, $cursor: String, $search: String) {
    ...ExchangeList_query @arguments(count: $count, cursor: $cursor, search: $search)
  }
`;

export const ExchangeList = graphql`
  fragment ExchangeList_query on Query
  @refetchable(queryName: "ExchangeListPaginationQuery")
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 10 }
    cursor: { type: "String" }
    search: { type: "String" }
  ) {
    exchanges(first: $count, after: $cursor, filter: { search: $search })
      @connection(key: "ExchangeList_exchanges", filters: ["filter"]) {
      totalCount
      edges {
        node {
          id
          ...ExchangeCard_exchange
        }
      }
    }
  }
`;
