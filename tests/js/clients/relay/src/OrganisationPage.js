// An organisation's page: its exchanges as a second @connection, on a Node fragment.
import { graphql } from "relay-runtime";

export const OrganisationPageQuery = graphql`
  query OrganisationPageQuery($slug: String!) {
    organisation(slug: $slug) {
      ...OrganisationPage_organisation
    }
  }
`;

export const OrganisationPage = graphql`
  fragment OrganisationPage_organisation on Organisation
  @refetchable(queryName: "OrganisationPageRefetchQuery")
  @argumentDefinitions(count: { type: "Int", defaultValue: 5 }, cursor: { type: "String" }) {
    id
    slug
    name
    kind
    exchanges(first: $count, after: $cursor) @connection(key: "OrganisationPage_exchanges") {
      edges {
        node {
          id
          ...ExchangeCard_exchange
        }
      }
    }
  }
`;
